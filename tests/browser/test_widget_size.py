"""Size budget of the caller widget: what every host page and every caller downloads.

Deterministic: gzip (level 9, mtime 0) of the files as served. The loader runs
on every page view of the host site, so it must stay small; the panel is what
a caller on a slow phone waits for before they can write.
"""

from __future__ import annotations

import gzip
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "widget" / "static"
LOADER_BUDGET = 15 * 1024
PANEL_BUDGET = 60 * 1024


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def panel_files() -> list[Path]:
    return sorted(p for p in (STATIC / "widget").iterdir() if p.is_file())


def test_loader_is_within_budget() -> None:
    size = gzipped(STATIC / "widget.js")
    assert 0 < size <= LOADER_BUDGET, f"widget.js is {size} bytes gzipped"


def test_panel_is_within_budget() -> None:
    files = panel_files()
    names = {p.name for p in files}
    assert {"panel.html", "panel.js", "panel.css", "i18n.js"} <= names
    total = sum(gzipped(p) for p in files)
    assert total <= PANEL_BUDGET, f"the panel is {total} bytes gzipped"


def test_panel_html_has_no_inline_script_or_style() -> None:
    # Our CSP (script-src 'self', style-src 'self') would block them.
    html = (STATIC / "widget" / "panel.html").read_text()
    assert "style=" not in html
    assert "<style" not in html
    assert "<script>" not in html and "onclick" not in html
    for path in (STATIC / "demo.html", STATIC / "widget" / "panel.html"):
        text = path.read_text()
        assert " on" + "load=" not in text and "javascript:" not in text
