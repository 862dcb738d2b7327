"""The counsellor console and the supervisor monitor in a real browser, side by side.

A caller (a websocket client) writes; the counsellor's console gets the offer,
accepts and replies; the supervisor's monitor shows the queue, then the risk
alert after a risky message; the supervisor whispers and only the counsellor
sees it. Screenshots for docs/ only with HELPLINE_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from server.models import Staff, StaffRole
from tests.browser.conftest import axe_violations
from tests.server.conftest import Running

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
RISKY = "jag har tagit 30 alvedon och vill dö"


async def screenshot(page: Any, name: str) -> None:
    if os.environ.get("HELPLINE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
async def two_pages(browser: Any) -> AsyncIterator[tuple[Any, Any]]:
    contexts = [
        await browser.new_context(locale="sv-SE", viewport={"width": 1400, "height": 1000})
        for _ in range(2)
    ]
    pages = [await c.new_page() for c in contexts]
    yield pages[0], pages[1]
    for context in contexts:
        await context.close()


async def sign_in(page: Any, running: Running, member: Staff, lands_on: str) -> None:
    await page.goto(f"{running.http}/staff/")
    await page.fill("#username", member.username)
    await page.fill("#password", running.password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/staff/{lands_on}")
    await expect(page.locator("#connection")).to_have_class("connection connected")


async def test_console_and_monitor_follow_a_conversation(
    running: Running, two_pages: tuple[Any, Any]
) -> None:
    console, monitor = two_pages
    line = await running.line()
    counsellor = await running.staff(line)
    supervisor = await running.staff(line, StaffRole.SUPERVISOR)
    await sign_in(console, running, counsellor, "console.html")
    await sign_in(monitor, running, supervisor, "monitor.html")

    # Swedish by the browser's language; the counsellor starts the shift.
    await expect(console.locator("h1")).to_have_text("Samtalskonsol")
    await console.click("#shift")
    await expect(console.locator("#shift-state")).to_have_class("badge on")
    line_row = monitor.locator(f'tr[data-line="{line}"]')
    await expect(line_row.locator(".waiting")).to_have_text("0")
    # The light's reason in the supervisor's language too (health_why codes).
    await expect(line_row).to_contain_text("ingen väntar")

    # A caller arrives: the monitor's queue grows, the console is offered the caller.
    caller = await running.caller()
    await caller.start(line, "sv")
    offer = console.locator(".offer")
    await expect(offer).to_be_visible()
    await expect(console.locator("#offers")).to_have_class("offers ringing")
    await expect(line_row.locator(".waiting")).to_have_text("1")
    await offer.locator("button.accept").click()
    await expect(console.locator(".tab")).to_have_count(1)
    await caller.expect("joined")

    await caller.say("hej, jag mår inte bra")
    transcript = console.locator(".panel:not([hidden]) .transcript")
    await expect(transcript).to_contain_text("hej, jag mår inte bra")
    await expect(console.locator(".info-wait")).to_contain_text("Väntade")
    composer = console.locator(".panel:not([hidden]) .composer textarea")
    await composer.fill("Hej, jag heter Kim. Jag finns här.")
    await composer.press("Enter")
    reply = await caller.expect("message", seq=2)
    assert reply["text"] == "Hej, jag heter Kim. Jag finns här."
    await expect(line_row.locator(".waiting")).to_have_text("0")

    # A risky message: the console highlights why, the monitor raises an alert.
    await caller.say(RISKY)
    banner = console.locator(".panel:not([hidden]) .risk-banner")
    await expect(banner).to_be_visible()
    await expect(banner.locator(".risk-tier")).to_contain_text("Risk:")
    await expect(transcript.locator("mark.evidence").first).to_be_visible()
    # Why, in the counsellor's language (GET /api/console/explain), and again on a switch.
    reasons = banner.locator(".risk-reasons")
    medicine = transcript.locator("mark.evidence", has_text="alvedon")
    await expect(reasons).to_contain_text("akut: har tagit en stor mängd läkemedel: ”har tagit”")
    await expect(medicine).to_have_attribute("title", "läkemedel som kan tas i överdos")
    await console.select_option("#lang", "da")
    await expect(reasons).to_contain_text("akut: har taget en stor mængde medicin: »har tagit«")
    await expect(medicine).to_have_attribute("title", "medicin, der kan tages i overdosis")
    await console.select_option("#lang", "en")
    await expect(reasons).to_contain_text("imminent: a large amount of medication taken")
    await console.select_option("#lang", "sv")
    await expect(reasons).to_contain_text("medel: passiv dödsönskan ”vill dö”")
    # Categories by name in the counsellor's language, not the engine's codes.
    await expect(banner.locator(".risk-categories")).to_contain_text("överdos")
    alert = monitor.locator('.alert-item[data-kind="risk"]').first
    await expect(alert).to_be_visible()
    # The reason in the supervisor's language (alert.why.risk), not the server's English.
    reason = alert.locator(".reason")
    await expect(reason).to_contain_text("En inringare bedöms ha akut risk:")
    await expect(reason).not_to_contain_text("A caller on")
    await expect(reason).to_contain_text("överdos")
    await monitor.select_option("#lang", "da")
    await expect(reason).to_contain_text("En henvendelse vurderes til akut risiko:")
    await expect(reason).to_contain_text("overdosis")
    await monitor.select_option("#lang", "sv")
    await expect(reason).to_contain_text("En inringare bedöms ha akut risk:")
    active_row = monitor.locator(f'#active tr[data-conversation="{caller.conversation}"]')
    await expect(active_row).to_have_count(1)
    await screenshot(console, "console-conversation")
    await screenshot(monitor, "monitor-alert")

    # The supervisor acknowledges, joins silently and whispers.
    await alert.locator("button.ack").click()
    await expect(alert).to_contain_text("Kvitterat av")
    await active_row.locator("button.join").click()
    await expect(monitor.locator("#joined-transcript")).to_contain_text("hej, jag mår inte bra")
    await monitor.fill("#whisper-text", "Fråga om hon är ensam hemma.")
    await monitor.click("#whisper-form button[type=submit]")
    whispers = console.locator(".panel:not([hidden]) .whispers")
    await expect(whispers).to_contain_text("Fråga om hon är ensam hemma.")
    await caller.nothing_of("whisper", wait=0.5)
    assert all("ensam hemma" not in str(frame) for frame in caller.seen)

    assert await axe_violations(console) == []
    assert await axe_violations(monitor) == []
    await screenshot(monitor, "monitor-joined")

    # Wrap-up ends the conversation and closes the tab.
    wrap_up = console.locator(".panel:not([hidden]) .wrapup-form")
    await wrap_up.locator("select[name=outcome]").select_option("referred")
    await wrap_up.locator("button[type=submit]").click()
    await expect(console.locator(".tab")).to_have_count(0)
    await caller.expect("ended")


async def test_console_language_switch_and_empty_state_are_accessible(
    running: Running, page: Any
) -> None:
    member = await running.staff(await running.line())
    await sign_in(page, running, member, "console.html")
    await page.select_option("#lang", "da")
    await expect(page.locator("h1")).to_have_text("Rådgiverkonsol")
    await expect(page.locator("html")).to_have_attribute("lang", "da")
    assert await axe_violations(page) == []
    await screenshot(page, "console-empty")
    await page.goto(f"{running.http}/staff/monitor.html")
    await page.wait_for_url("**/staff/console.html")


async def test_console_resumes_the_shift_when_it_reconnects_to_a_process_that_forgot_it(
    running: Running, page: Any
) -> None:
    """A deploy moves the counsellor to a process that knows nothing of their shift:
    the console, which knows, clocks in again and keeps the chosen availability."""
    member = await running.staff(await running.line())
    await sign_in(page, running, member, "console.html")
    await page.click("#shift")
    await expect(page.locator("#shift-state")).to_have_class("badge on")
    await page.select_option("#availability", "away")
    hub = running.services.hub
    # Shift state lives only in the process's memory: forget it, as a new process
    # would, and drop the socket as a restart does (1012: service restart).
    presence = hub.presence.pop(member.id)
    for conn in list(presence.sockets):
        await conn._close(1012)
    await expect(page.locator("#connection")).to_have_class("connection connected")
    await expect(page.locator("#shift-state")).to_have_class("badge on")
    await expect(page.locator("#notice")).to_contain_text("i tjänst igen")
    assert hub.presence[member.id].on_shift
    assert hub.presence[member.id].availability == "away"


async def test_console_answers_a_question_left_by_a_caller(running: Running, page: Any) -> None:
    line = await running.line()
    member = await running.staff(line)
    await sign_in(page, running, member, "console.html")
    toggle = page.locator("#cases-toggle")
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(page.locator("#no-cases")).to_be_visible()

    async with httpx.AsyncClient(base_url=running.http) as http:
        # Left through the caller API while the console is open: it appears live.
        created = await http.post(
            "/api/cases", json={"line": line, "lang": "sv", "text": "Hur pratar jag med mamma?"}
        )
        code = created.json()["code"]
        card = page.locator("#case-list .case")
        await expect(card).to_have_count(1)
        await expect(card.locator(".case-title")).to_have_text(f"{line} · sv")
        await expect(card.locator(".case-messages")).to_contain_text("Hur pratar jag med mamma?")
        await expect(card.locator(".case-age")).to_contain_text("väntat på svar")
        await expect(page.locator("#case-count")).to_have_text("(1 öppna)")
        assert await axe_violations(page) == []
        await screenshot(page, "console-questions")

        await card.get_by_label("Ditt svar").fill(
            "Börja med en lugn stund, och berätta hur du mår."
        )
        await card.locator("button.case-send").click()
        await expect(page.locator("#case-status")).to_have_text("Ditt svar har skickats.")
        await expect(card).to_have_count(0)
        await expect(page.locator("#no-cases")).to_be_visible()
        found = (await http.post("/api/cases/lookup", json={"code": code})).json()["case"]
        assert found["state"] == "answered"
        assert [(m["from"], m["text"]) for m in found["messages"]] == [
            ("caller", "Hur pratar jag med mamma?"),
            ("counsellor", "Börja med en lugn stund, och berätta hur du mår."),
        ]

        # A follow-up re-opens it with the whole exchange; this time it is closed.
        await http.post("/api/cases/reply", json={"code": code, "text": "Tack, det hjälpte."})
        await expect(card).to_have_count(1)
        await expect(card.locator(".case-messages .message")).to_have_count(3)
        await card.get_by_label("Ditt svar").fill("Vad fint. Hör av dig igen om du vill.")
        await card.get_by_label("Stäng frågan").check()
        await card.locator("button.case-send").click()
        await expect(card).to_have_count(0)
        closed = (await http.post("/api/cases/lookup", json={"code": code})).json()["case"]
        assert closed["state"] == "closed"
