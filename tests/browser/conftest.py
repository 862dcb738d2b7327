"""Playwright driving Debian's chromium (never a downloaded browser).

In CI (``HELPLINE_REQUIRE_SERVICES=1``) a missing chromium is a failure, not a skip.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_services
from tests.server.conftest import make_server, running  # noqa: F401  (shared fixtures)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
AXE_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    executable = chromium_path()
    if executable is None:
        if require_services():
            pytest.fail("chromium is not installed; scripts/setup --with-test-tools installs it")
        pytest.skip("chromium is not installed (run scripts/test, which installs it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(locale="sv-SE")
    new_page = await context.new_page()
    yield new_page
    await context.close()


async def axe_violations(
    page_or_frame: Any, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[dict[str, Any]]:
    """Run axe-core in the page (or frame); return violations of the given impacts."""
    if not AXE_JS.exists():
        raise AssertionError("axe-core missing: scripts/setup --with-test-tools installs it")
    # evaluate() goes through the DevTools protocol, so our strict CSP (no
    # inline scripts) stays on while axe is injected.
    # A message fading in (panel.css, `appear`) has a low contrast for 0.18 s; on a
    # busy machine axe once measured one mid-fade. Judge the settled page.
    await page_or_frame.evaluate(
        "async () => { await Promise.allSettled(document.getAnimations().map(a => a.finished)); }"
    )
    await page_or_frame.evaluate(AXE_JS.read_text() + "\n;undefined")
    result = await page_or_frame.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v.get("impact") in impacts]
