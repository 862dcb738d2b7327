"""The HTTP routes of the counsellor console and the supervisor monitor (docs/console.md)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from server import console_api, monitor_api


def console_routes() -> list[BaseRoute]:
    line = "/api/console/lines/{line_id}"
    return [
        Route(f"{line}/canned", console_api.list_canned, methods=["GET"]),
        Route(f"{line}/canned", console_api.create_canned, methods=["POST"]),
        Route("/api/console/canned/{canned_id:int}", console_api.update_canned, methods=["PUT"]),
        Route("/api/console/canned/{canned_id:int}", console_api.delete_canned, methods=["DELETE"]),
        Route(f"{line}/referrals", console_api.list_referrals, methods=["GET"]),
        Route(f"{line}/topics", console_api.list_topics, methods=["GET"]),
        Route(f"{line}/topics", console_api.set_topics, methods=["PUT"]),
        Route("/api/console/conversations/{conversation_id}", console_api.conversation),
        Route("/api/console/colleagues", console_api.colleagues),
        Route("/api/console/explain", console_api.explanations, methods=["GET"]),
        Route("/api/monitor/snapshot", monitor_api.snapshot),
        Route(
            "/api/monitor/alerts/{alert_id}/ack", monitor_api.acknowledge_alert, methods=["POST"]
        ),
        Route("/api/monitor/conversations/{conversation_id}", monitor_api.transcript),
    ]
