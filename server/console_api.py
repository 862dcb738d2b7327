"""HTTP endpoints of the counsellor console: canned responses, referrals, topics, detail.

Design note: docs/console.md. Reads are open to staff who serve the line
(supervisors: every line); canned responses and topics are managed by
supervisors only, with the CSRF token. Live events go over /ws/staff, not here.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.http_api import error, json_body, services_of
from server.models import LANGUAGES, Staff
from server.staff_http import signed_in
from server.supervision import conversation_detail
from triage.explain import default_explanations

_SHORTCUT = re.compile(r"^[a-z0-9_-]{1,32}$")
_TOPIC_ID = re.compile(r"^[a-z0-9_-]{1,40}$")
# Canned texts are messages to callers: the same bound as a message.
_MAX_TITLE = 120
_MAX_TOPICS = 40


def _may_read_line(staff: Staff, line_id: str) -> bool:
    return staff.is_supervisor or staff.serves(line_id)


async def _line_reader(request: Request) -> tuple[Staff, str] | Response:
    staff = await signed_in(request)
    if isinstance(staff, Response):
        return staff
    line_id = request.path_params["line_id"]
    if await services_of(request).store.get_line(line_id) is None:
        return error(404, "unknown_line", "no such line")
    if not _may_read_line(staff, line_id):
        return error(403, "forbidden", "you do not serve this line")
    return staff, line_id


async def list_canned(request: Request) -> Response:
    found = await _line_reader(request)
    if isinstance(found, Response):
        return found
    lang = request.query_params.get("lang")
    rows = await services_of(request).store.canned_responses(
        found[1], lang if lang in LANGUAGES else None
    )
    return JSONResponse({"canned": rows})


def _canned_fields(body: dict[str, Any], max_text: int) -> dict[str, str] | str:
    lang, shortcut = body.get("lang"), body.get("shortcut")
    title, text = body.get("title"), body.get("body")
    if lang not in LANGUAGES:
        return "lang must be sv, da or en"
    if not isinstance(shortcut, str) or not _SHORTCUT.match(shortcut):
        return "shortcut must be 1-32 of a-z 0-9 _ -"
    if not isinstance(title, str) or not 0 < len(title.strip()) <= _MAX_TITLE:
        return f"title must be 1-{_MAX_TITLE} characters"
    if not isinstance(text, str) or not 0 < len(text.strip()) <= max_text:
        return f"body must be 1-{max_text} characters"
    return {"lang": str(lang), "shortcut": shortcut, "title": title.strip(), "body": text}


async def _save_canned(request: Request, line_id: str | None, canned_id: int | None) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    services = services_of(request)
    store = services.store
    if canned_id is not None:
        existing = await store.canned_response(canned_id)
        if existing is None:
            return error(404, "not_found", "no such canned response")
        line_id = existing["line_id"]
    assert line_id is not None
    if await store.get_line(line_id) is None:
        return error(404, "unknown_line", "no such line")
    body = await json_body(request)
    if body is None:
        return error(400, "bad_request", "send a JSON object")
    fields = _canned_fields(body, services.settings.max_text_chars)
    if isinstance(fields, str):
        return error(400, "bad_request", fields)
    saved = await store.save_canned_response(staff.id, line_id, canned_id=canned_id, **fields)
    if saved is None:
        return error(409, "shortcut_taken", "this shortcut is already used for that language")
    action = "canned_created" if canned_id is None else "canned_updated"
    await store.audit(staff.id, action, None, {"canned": saved["id"], "line": line_id})
    return JSONResponse(saved, status_code=201 if canned_id is None else 200)


async def create_canned(request: Request) -> Response:
    return await _save_canned(request, request.path_params["line_id"], None)


async def update_canned(request: Request) -> Response:
    return await _save_canned(request, None, int(request.path_params["canned_id"]))


async def delete_canned(request: Request) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    store = services_of(request).store
    canned_id = int(request.path_params["canned_id"])
    if not await store.delete_canned_response(canned_id):
        return error(404, "not_found", "no such canned response")
    await store.audit(staff.id, "canned_deleted", None, {"canned": canned_id})
    return JSONResponse({"deleted": canned_id})


async def list_referrals(request: Request) -> Response:
    found = await _line_reader(request)
    if isinstance(found, Response):
        return found
    return JSONResponse({"referrals": await services_of(request).store.referrals(found[1])})


async def list_topics(request: Request) -> Response:
    found = await _line_reader(request)
    if isinstance(found, Response):
        return found
    return JSONResponse({"topics": await services_of(request).store.wrap_up_topics(found[1])})


async def set_topics(request: Request) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    store = services_of(request).store
    line_id = request.path_params["line_id"]
    if await store.get_line(line_id) is None:
        return error(404, "unknown_line", "no such line")
    body = await json_body(request)
    topics = body.get("topics") if body else None
    if not isinstance(topics, list) or len(topics) > _MAX_TOPICS:
        return error(400, "bad_request", f"send {{'topics': [...]}} with at most {_MAX_TOPICS}")
    clean: list[dict[str, Any]] = []
    for topic in topics:
        if not (
            isinstance(topic, dict)
            and isinstance(topic.get("id"), str)
            and _TOPIC_ID.match(topic["id"])
            and isinstance(topic.get("label"), dict)
            and all(isinstance(v, str) and len(v) <= 80 for v in topic["label"].values())
        ):
            return error(400, "bad_request", "each topic needs an id and a label per language")
        clean.append({"id": topic["id"], "label": topic["label"]})
    await store.set_wrap_up_topics(line_id, clean)
    await store.audit(staff.id, "topics_set", None, {"line": line_id, "count": len(clean)})
    return JSONResponse({"topics": clean})


async def conversation(request: Request) -> Response:
    """Notes, whispers and triage results beside the transcript (holder or supervisor)."""
    staff = await signed_in(request)
    if isinstance(staff, Response):
        return staff
    services = services_of(request)
    try:
        conv_id = uuid.UUID(request.path_params["conversation_id"])
    except ValueError:
        return error(404, "not_found", "no such conversation")
    conv = await services.store.get_conversation(conv_id)
    if conv is None or not (conv.counsellor_id == staff.id or staff.is_supervisor):
        return error(403, "not_participant", "you are not part of this conversation")
    if conv.counsellor_id != staff.id:
        await services.store.audit(staff.id, "supervisor_view", conv.id)
    detail = await conversation_detail(services, conv)
    wrap_up = await services.store.wrap_up_record(conv.id)
    if wrap_up is not None:
        wrap_up["created_at"] = wrap_up["created_at"].isoformat()
        wrap_up["topics"] = list(wrap_up["topics"])
    return JSONResponse({**detail, "wrap_up": wrap_up})


async def explanations(request: Request) -> Response:
    """What triage evidence and rules mean, in sv, da and en (triage/lexicons/explain.toml).

    Static: the console fetches it once and shows the risk reasons in the
    counsellor's language; any signed-in staff member may read it.
    """
    staff = await signed_in(request)
    if isinstance(staff, Response):
        return staff
    return JSONResponse(default_explanations().to_json())


async def colleagues(request: Request) -> Response:
    """Whom a conversation can be transferred to: staff on shift in any process, and the lines."""
    staff = await signed_in(request)
    if isinstance(staff, Response):
        return staff
    services = services_of(request)
    line_id = request.query_params.get("line", "")
    people: dict[int, dict[str, Any]] = {
        p.staff.id: {"id": p.staff.id, "name": p.staff.display_name, "role": p.staff.role.value}
        for p in services.hub.presence.values()
        if p.staff.id != staff.id and p.on_shift and p.sockets and p.staff.serves(line_id)
    }
    # Colleagues connected to other server processes, from the presence board.
    for entry in await services.hub.everyone_on_shift():
        staff_id, lines = entry.get("staff"), entry.get("lines") or []
        if not isinstance(staff_id, int) or staff_id == staff.id or staff_id in people:
            continue
        if lines and line_id not in lines:
            continue
        name, role = entry.get("name"), entry.get("role")
        if not isinstance(name, str) or not isinstance(role, str):
            found = await services.store.staff_by_id(staff_id)  # an older process's entry
            if found is None:
                continue
            name, role = found.display_name, found.role.value
        people[staff_id] = {"id": staff_id, "name": name, "role": role}
    lines_out = [{"id": line.id, "name": line.name} for line in await services.store.list_lines()]
    ordered = sorted(people.values(), key=lambda p: str(p["name"]))
    return JSONResponse({"staff": ordered, "lines": lines_out})
