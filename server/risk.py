"""Triage in the hub: assess every caller message as it is stored (docs/triage.md)."""

from __future__ import annotations

from server.services import Services


def install_risk_hook(services: Services) -> None:
    """Placeholder until the triage engine is wired: no hook, no assessment."""
    return None
