"""HTTP API for the rota: import, coverage and gaps, calendar, clock-ins, requests, demand.

Supervisors manage; counsellors see their own shifts, request ad-hoc clock-ins,
sign up for open shifts and ask for swaps or cover (docs/rota.md, "In the server").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rota.conflicts import double_bookings
from rota.coverage import compute_coverage, on_shift_now
from rota.demand import Contact, demand_vs_schedule, scheduled_counsellors
from rota.ics import to_ics
from rota.model import Role
from rota.shifts import effective_shifts, resolve
from rota.yaml_format import RotaFormatError, parse_rota_yaml
from server.alerts import raise_alert
from server.http_api import json_body, services_of
from server.rota_state import RotaState
from server.staff_http import signed_in

# A rota document is a few hundred lines; this bounds a hostile upload.
MAX_ROTA_BYTES = 512 * 1024
MAX_COVERAGE_HOURS = 24 * 31
MAX_CLOCK_IN_HOURS = 12


def _state(request: Request) -> RotaState:
    state: RotaState = services_of(request).extras["rota_state"]
    return state


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def import_rota(request: Request) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    body = await request.body()
    if len(body) > MAX_ROTA_BYTES:
        return _error(413, "too_large", "rota document over 512 KiB")
    text = body.decode("utf-8", "replace")
    try:
        rota = parse_rota_yaml(text)
    except RotaFormatError as exc:
        return _error(400, "bad_rota", str(exc))
    services = services_of(request)
    document_id = await services.store.save_rota(text, staff.id)
    await services.store.audit(staff.id, "rota_import", detail={"document": document_id})
    await _state(request).refresh(services.store)
    services.hub.kick()
    return JSONResponse(
        {
            "document": document_id,
            "lines": [ln.line_id for ln in rota.lines],
            "staff": len(rota.staff),
            "templates": len(rota.templates),
        }
    )


async def coverage(request: Request) -> Response:
    """Who is on shift now and the gaps from now to ``hours`` ahead (default 24)."""
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    state = _state(request)
    if state.rota is None:
        return JSONResponse({"loaded": False, "lines": [], "gaps": [], "overstaffing": []})
    try:
        hours = min(MAX_COVERAGE_HOURS, max(1, int(request.query_params.get("hours", "24"))))
    except ValueError:
        return _error(400, "bad_request", "hours must be a whole number")
    now = datetime.now(UTC)
    result = compute_coverage(
        state.rota, now, now + timedelta(hours=hours), clock_ins=state.rota.clock_ins
    )
    lines = []
    for line in state.rota.lines:
        on_shift = on_shift_now(state.rota, line.line_id, now, clock_ins=state.rota.clock_ins)
        lines.append(
            {
                "line": line.line_id,
                "name": line.name,
                "open_now": state.line_open(line.line_id, now),
                "opening": line.opening.label(),
                "on_shift": [
                    {
                        "staff": o.staff_id,
                        "role": str(o.role),
                        "until": o.end.isoformat(),
                        "reason": o.reason,
                    }
                    for o in on_shift
                ],
            }
        )
    body = result.to_dict()
    duties = resolve(
        state.rota, now, now + timedelta(hours=hours), clock_ins=state.rota.clock_ins
    ).duties
    return JSONResponse(
        {
            "loaded": True,
            "now": now.isoformat(),
            "hours": hours,
            "lines": lines,
            "gaps": body["gaps"],
            "overstaffing": body["overstaffing"],
            "double_bookings": [b.to_dict() for b in double_bookings(duties)],
        }
    )


async def my_calendar(request: Request) -> Response:
    """The signed-in staff member's shifts for the next 90 days as an RFC 5545 calendar."""
    staff = await signed_in(request)
    if isinstance(staff, Response):
        return staff
    state = _state(request)
    if state.rota is None:
        return _error(404, "no_rota", "no rota has been imported")
    now = datetime.now(UTC)
    shifts, _changes = effective_shifts(
        state.rota, now - timedelta(days=1), now + timedelta(days=90)
    )
    calendar = to_ics(
        shifts,
        staff.username,
        dtstamp=now.replace(microsecond=0),
        line_names={ln.line_id: ln.name for ln in state.rota.lines},
    )
    return Response(
        calendar,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="shifts.ics"'},
    )


async def my_status(request: Request) -> Response:
    staff = await signed_in(request)
    if isinstance(staff, Response):
        return staff
    state = _state(request)
    now = datetime.now(UTC)
    return JSONResponse(
        {
            "rota_loaded": state.loaded,
            "may_take_calls": state.may_take_calls(staff.username, now),
        }
    )


async def request_clock_in(request: Request) -> Response:
    """A counsellor not on the rota asks to work now; a supervisor must approve."""
    staff = await signed_in(request)
    if isinstance(staff, Response):
        return staff
    body = await json_body(request)
    line_id = body.get("line") if body else None
    if body is None or not isinstance(line_id, str) or not 0 < len(line_id) <= 40:
        return _error(400, "bad_request", "send JSON with line and hours")
    hours = body.get("hours", 4)
    if not isinstance(hours, int | float) or not 0 < hours <= MAX_CLOCK_IN_HOURS:
        return _error(400, "bad_request", f"hours must be between 0 and {MAX_CLOCK_IN_HOURS}")
    role = body.get("role", "counsellor")
    if role not in ("counsellor", "supervisor") or (
        role == "supervisor" and not staff.is_supervisor
    ):
        return _error(400, "bad_request", "role must be counsellor (or supervisor for supervisors)")
    services = services_of(request)
    now = datetime.now(UTC)
    clock_in_id = await services.store.pool.fetchval(
        "INSERT INTO clock_ins (staff_id, line_id, role, starts_at, ends_at)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
        staff.id,
        line_id,
        role,
        now,
        now + timedelta(hours=float(hours)),
    )
    await raise_alert(
        services,
        key=f"clock-in-request:{clock_in_id}",
        kind="clock_in_request",
        reason=f"{staff.display_name} asks to clock in on {line_id} for {hours} h",
        line_id=line_id,
        why={
            "code": "clock_in_request",
            "params": {"name": staff.display_name, "hours": str(hours)},
        },
    )
    return JSONResponse({"clock_in": clock_in_id, "status": "pending"}, status_code=201)


async def approve_clock_in(request: Request) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    try:
        clock_in_id = int(request.path_params["clock_in_id"])
    except ValueError:
        return _error(404, "not_found", "no such clock-in")
    services = services_of(request)
    updated = await services.store.pool.fetchval(
        "UPDATE clock_ins SET approved_by = $2 WHERE id = $1 AND approved_by IS NULL RETURNING id",
        clock_in_id,
        staff.id,
    )
    if updated is None:
        return _error(404, "not_found", "no such pending clock-in")
    await services.store.audit(staff.id, "clock_in_approved", detail={"clock_in": clock_in_id})
    await _state(request).refresh(services.store)
    services.hub.kick()
    return JSONResponse({"clock_in": clock_in_id, "status": "approved"})


REQUEST_FIELDS = {
    "signup": ("line", "start", "end", "role"),
    "swap": ("shift_a", "shift_b", "staff_b"),
    "cover": ("shift_id", "covered_by"),
}


async def create_request(request: Request) -> Response:
    """Sign up for an open shift, or ask to swap or to be covered."""
    staff = await signed_in(request)
    if isinstance(staff, Response):
        return staff
    body = await json_body(request)
    kind = body.get("kind") if body else None
    if body is None or kind not in REQUEST_FIELDS:
        return _error(400, "bad_request", "kind must be signup, swap or cover")
    payload: dict[str, str] = {}
    for field_name in REQUEST_FIELDS[kind]:
        value = body.get(field_name)
        if not isinstance(value, str) or not 0 < len(value) <= 100:
            return _error(400, "bad_request", f"{kind} needs {', '.join(REQUEST_FIELDS[kind])}")
        payload[field_name] = value
    if kind == "signup":
        try:
            start = datetime.fromisoformat(payload["start"])
            end = datetime.fromisoformat(payload["end"])
            Role(payload["role"])
        except ValueError:
            return _error(400, "bad_request", "start/end must be ISO times, role a rota role")
        if start.tzinfo is None or end <= start or end - start > timedelta(hours=24):
            return _error(400, "bad_request", "start/end need a time zone and at most 24 h")
    request_id = await services_of(request).store.pool.fetchval(
        "INSERT INTO rota_requests (kind, staff_id, payload) VALUES ($1, $2, $3) RETURNING id",
        kind,
        staff.id,
        json.dumps(payload),
    )
    return JSONResponse({"request": request_id, "status": "pending"}, status_code=201)


async def list_requests(request: Request) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    rows = await services_of(request).store.pool.fetch(
        "SELECT r.id, r.kind, r.payload, r.status, s.username, r.created_at FROM rota_requests r"
        " JOIN staff s ON s.id = r.staff_id WHERE r.status = 'pending' ORDER BY r.id"
    )
    return JSONResponse(
        {
            "requests": [
                {
                    "id": r["id"],
                    "kind": r["kind"],
                    "payload": json.loads(r["payload"]),
                    "staff": r["username"],
                    "created_at": r["created_at"].isoformat(),
                }
                for r in rows
            ]
        }
    )


async def decide_request(request: Request) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    body = await json_body(request)
    decision = body.get("decision") if body else None
    if decision not in ("approved", "rejected"):
        return _error(400, "bad_request", "decision must be approved or rejected")
    try:
        request_id = int(request.path_params["request_id"])
    except ValueError:
        return _error(404, "not_found", "no such request")
    services = services_of(request)
    updated = await services.store.pool.fetchval(
        "UPDATE rota_requests SET status = $2, decided_by = $3, decided_at = now()"
        " WHERE id = $1 AND status = 'pending' RETURNING id",
        request_id,
        decision,
        staff.id,
    )
    if updated is None:
        return _error(404, "not_found", "no such pending request")
    await services.store.audit(staff.id, f"rota_request_{decision}", detail={"request": request_id})
    await _state(request).refresh(services.store)
    services.hub.kick()
    return JSONResponse({"request": request_id, "status": decision})


async def demand(request: Request) -> Response:
    """Expected contacts per hour of the week against counsellors scheduled (Erlang C)."""
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    state = _state(request)
    line_id = request.query_params.get("line", "")
    if state.rota is None:
        return _error(404, "no_rota", "no rota has been imported")
    try:
        line = state.rota.line(line_id)
    except KeyError:
        return _error(404, "unknown_line", "the rota has no such line")
    weeks = 8
    now = datetime.now(UTC)
    history_start = now - timedelta(weeks=weeks)
    rows = await services_of(request).store.pool.fetch(
        "SELECT queued_at, coalesce(ended_at, now()) - coalesce(accepted_at, queued_at) AS handled"
        " FROM conversations WHERE line_id = $1 AND queued_at >= $2",
        line_id,
        history_start,
    )
    contacts = [Contact(r["queued_at"], r["handled"]) for r in rows]
    tz = ZoneInfo(line.timezone)
    local_now = now.astimezone(tz)
    week_start = (local_now - timedelta(days=local_now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    counsellors = scheduled_counsellors(state.rota, line_id, week_start)
    hours = demand_vs_schedule(contacts, history_start, now, counsellors, timezone=line.timezone)
    return JSONResponse(
        {
            "line": line_id,
            "weeks_of_history": weeks,
            "contacts": len(contacts),
            "formula": "Erlang C",
            "hours": [h.to_dict() for h in hours],
        }
    )
