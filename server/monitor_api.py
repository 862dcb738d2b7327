"""HTTP endpoints of the supervisor's shift monitor (supervisors and admins only).

Design note: docs/console.md. The monitor page itself lives on /ws/staff
(frame ``monitor``); these serve a first paint, acknowledgements without a
socket, and an audited read of a transcript.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.http_api import error, services_of
from server.monitor_snapshot import build_snapshot, public
from server.staff_http import signed_in
from server.supervision import conversation_detail


async def snapshot(request: Request) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    return JSONResponse(public(await build_snapshot(services_of(request), viewer=staff)))


async def acknowledge_alert(request: Request) -> Response:
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    services = services_of(request)
    try:
        alert_id = uuid.UUID(request.path_params["alert_id"])
    except ValueError:
        return error(404, "unknown_alert", "no such alert")
    acked = await services.store.acknowledge_alert(alert_id, staff.id)
    if acked is None:
        return error(404, "unknown_alert", "no such alert")
    await services.bus.publish("supervisors", {**acked, "type": "alert_ack"})
    return JSONResponse(acked)


async def transcript(request: Request) -> Response:
    """A conversation's transcript for a supervisor; every read is audited."""
    staff = await signed_in(request, supervisor=True)
    if isinstance(staff, Response):
        return staff
    services = services_of(request)
    try:
        conv_id = uuid.UUID(request.path_params["conversation_id"])
    except ValueError:
        return error(404, "not_found", "no such conversation")
    conv = await services.store.get_conversation(conv_id)
    if conv is None:
        return error(404, "not_found", "no such conversation")
    await services.store.audit(staff.id, "supervisor_view", conv.id)
    messages = [m.frame() for m in await services.store.messages_after(conv.id, 0)]
    detail = await conversation_detail(services, conv)
    return JSONResponse({**detail, "messages": messages})
