"""structlog set-up: JSON lines in production, a console renderer in development.

Callers' IP addresses, user agents and message texts are never passed to a
logger; ``drop_caller_identifiers`` is a last line of defence should one slip in.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

FORBIDDEN_KEYS = frozenset({"ip", "client", "remote_addr", "user_agent", "text", "body", "token"})


def drop_caller_identifiers(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in FORBIDDEN_KEYS & event_dict.keys():
        event_dict[key] = "[redacted]"
    return event_dict


def configure(dev: bool) -> None:
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if dev and sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            drop_caller_identifiers,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # uvicorn's access log, and its "connection open"/"[accepted]" lines, print
    # client addresses: callers must not be in logs. Its warnings stay.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
