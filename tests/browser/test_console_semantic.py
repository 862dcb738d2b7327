"""The semantic layer's raise in the counsellor console: what the message was taken
to resemble is shown, in the counsellor's language, instead of the caller's words."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from server.models import RiskTier
from tests.browser.test_console_and_monitor import sign_in
from tests.server.conftest import ServerFactory


async def test_console_shows_what_a_semantic_raise_resembled(
    make_server: ServerFactory, browser: Any
) -> None:
    from triage.semantic_model import load_semantic_engine

    layered = load_semantic_engine(threads=1)
    # An urgent exemplar the rules miss: the layer's verdict on it does not depend
    # on calibration (it is its own nearest neighbour).
    missed = next(
        e
        for e in layered.index.exemplars
        if e.tier >= RiskTier.HIGH
        and e.lang == "sv"
        and layered.rules.assess(e.text, "sv").tier < RiskTier.HIGH
    )

    running = await make_server(triage_semantic=True)
    line = await running.line()
    counsellor = await running.staff(line)
    context = await browser.new_context(locale="sv-SE", viewport={"width": 1400, "height": 1000})
    console = await context.new_page()
    try:
        await sign_in(console, running, counsellor, "console.html")
        await console.click("#shift")
        caller = await running.caller()
        await caller.start(line, "sv")
        await console.locator(".offer button.accept").click()
        await caller.expect("joined")
        await caller.say(missed.text)

        banner = console.locator(".panel:not([hidden]) .risk-banner")
        reasons = banner.locator(".risk-reasons")
        await expect(reasons).to_contain_text("liknar kända riskmeddelanden")
        await expect(reasons).to_contain_text(f"som ”{missed.text[:40]}")
        mark = console.locator(".panel:not([hidden]) .transcript mark.evidence")
        await expect(mark).to_have_attribute(
            "title", "liknar kända riskmeddelanden (till innebörden, inte orden)"
        )
        await console.select_option("#lang", "da")
        await expect(reasons).to_contain_text("ligner kendte risikobeskeder")
        await expect(reasons).to_contain_text(f"som »{missed.text[:40]}")
    finally:
        await context.close()
