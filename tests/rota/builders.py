"""Shared builders for the rota tests: small rotas written in the YAML format."""

from __future__ import annotations

import textwrap
from datetime import datetime
from zoneinfo import ZoneInfo

from rota.model import Rota
from rota.yaml_format import parse_rota_yaml

SE = ZoneInfo("Europe/Stockholm")

STAFF_YAML = """
staff:
  - {id: sup1, roles: [supervisor]}
  - {id: sup2, roles: [supervisor]}
  - {id: c1, roles: [counsellor]}
  - {id: c2, roles: [counsellor]}
  - {id: c3, roles: [counsellor]}
"""


def se(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Stockholm wall-clock instant (never inside a DST gap in these tests)."""
    return datetime(year, month, day, hour, minute, tzinfo=SE)


def rota_from(body: str, *, with_staff: bool = True) -> Rota:
    """Parse a YAML rota body, adding the shared staff list."""
    text = textwrap.dedent(body)
    if with_staff:
        text += STAFF_YAML
    return parse_rota_yaml(text)
