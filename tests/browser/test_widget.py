"""The caller widget in a real browser, against a real server (docs/widget.md).

The widget is embedded in a host page served from *another* origin
(``localhost`` on a second port, while the helpline is ``127.0.0.1``), so the
iframe isolation, postMessage origin checks and the websocket Origin check are
exercised as on a real third-party site. The host page's CSS is hostile and it
has a cookie banner at the maximal z-index.

``HELPLINE_SCREENSHOTS=1`` also writes docs/screenshots/widget-*.png.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from server.demo import EMERGENCY_SE_DK
from tests.browser.conftest import axe_violations
from tests.conftest import free_port
from tests.server.conftest import Running

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
RISKY = "jag har tagit 30 alvedon och vill dö"

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host site</title>
<style>
  button {{ display: none !important; }}
  iframe {{ border: 12px solid red !important; width: 10px !important; }}
  helpline-widget {{ opacity: 0; }}
  #banner {{ position: fixed; left: 0; right: 0; bottom: 0; height: 240px;
            z-index: 2147483647; background: #333; color: #fff; }}
</style></head>
<body><h1>Host site</h1><p><a href="#a">A link</a></p>
<div id="banner">We use cookies</div>
<script src="{http}/widget.js" data-line="{line}" data-lines="{lines}" async></script>
</body></html>"""


# -- fixtures and helpers ---------------------------------------------------------


@dataclasses.dataclass
class HostSite:
    """Another origin. Cross-site (``localhost``): the browser blocks the panel's
    storage, as in a private window. Same-site (``127.0.0.1``, another port):
    the panel's sessionStorage works, so resume-after-reload can be checked."""

    port: int
    pages: dict[str, str]

    def add(
        self, running: Running, line: str, lines: str | None = None, same_site: bool = False
    ) -> str:
        name = f"p-{uuid.uuid4().hex[:8]}.html"
        self.pages[name] = HOST_PAGE.format(http=running.http, line=line, lines=lines or line)
        host = "127.0.0.1" if same_site else "localhost"
        return f"http://{host}:{self.port}/{name}"


@pytest.fixture
async def host_site() -> AsyncIterator[HostSite]:
    """A third-party site on a loopback origin of its own (not the helpline's)."""
    pages: dict[str, str] = {}

    async def serve(request: Request) -> Response:
        body = pages.get(request.path_params["name"])
        return HTMLResponse(body) if body else HTMLResponse("not found", status_code=404)

    port = free_port()
    app = Starlette(routes=[Route("/{name}", serve)])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield HostSite(port, pages)
    server.should_exit = True
    await task


async def widget_line(
    running: Running, exit_path: str = "/healthz", emergency: dict[str, Any] | None = None
) -> str:
    """A test line whose neutral exit page is on the test server (no internet here)."""
    line_id = await running.line()
    line = await running.store.get_line(line_id)
    line = dataclasses.replace(line, exit_url=f"{running.http}{exit_path}")
    if emergency is not None:
        line = dataclasses.replace(line, emergency=emergency)
    await running.store.upsert_line(line)
    return str(line_id)


async def panel(page: Any) -> Any:
    """The panel's frame (it loads eagerly, hidden, when the host page loads)."""
    for _ in range(200):
        for frame in page.frames:
            if "/widget/panel.html" in frame.url:
                await frame.wait_for_load_state()
                await expect(frame.locator("#title")).not_to_be_empty()
                return frame
        await asyncio.sleep(0.05)
    raise AssertionError("the widget's panel frame never appeared")


async def open_widget(page: Any, url: str) -> Any:
    await page.goto(url)
    frame = await panel(page)
    # The launcher is in a closed shadow root: click its host element.
    await page.locator("helpline-widget").click()
    await expect(frame.locator("#v-welcome")).to_be_visible()
    return frame


async def choose_language(frame: Any, lang: str) -> None:
    await frame.locator(f"input[name=lang][value={lang}]").check()
    await expect(frame.locator("html")).to_have_attribute("lang", lang)


async def snap(page: Any, name: str) -> None:
    if os.environ.get("HELPLINE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await asyncio.sleep(0.3)  # let the message fade-in finish
        await page.screenshot(path=str(SCREENSHOTS / f"widget-{name}.png"))


async def publish_emergency_if_no_triage(running: Running, conversation: str) -> None:
    """Until server/risk.py installs its hook, play the triage engine's part."""
    if "on_caller_message" in running.services.extras:
        return
    line = await running.store.get_conversation(uuid.UUID(conversation))
    info = (await running.store.get_line(line.line_id)).emergency
    await running.services.bus.publish(
        f"conv:{conversation}",
        {
            "type": "emergency",
            "conversation": conversation,
            "tier_alert": True,
            "text": info["text"],
            "numbers": info["numbers"],
        },
    )


async def caller_conversation(running: Running, line: str) -> str:
    async def started() -> bool:
        return bool(
            await running.services.pool.fetchval(
                "SELECT count(*) FROM conversations WHERE line_id = $1", line
            )
        )

    await wait_for(started)
    value = await running.services.pool.fetchval(
        "SELECT id FROM conversations WHERE line_id = $1", line
    )
    return str(value)


async def storage_size(frame: Any) -> int:
    return int(await frame.evaluate("() => sessionStorage.length"))


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


# -- the core flow, in each language ------------------------------------------------

ROLE = {"sv": "En samtalsstödjare", "da": "En rådgiver", "en": "A counsellor"}
JOINED = {
    "sv": "En samtalsstödjare har kommit in i chatten.",
    "da": "En rådgiver er kommet ind i chatten.",
    "en": "A counsellor has joined the chat.",
}
QUEUE = {"sv": "nummer 1 i kön", "da": "nummer 1 i køen", "en": "number 1 in the queue"}
DELIVERED = {
    "sv": "Levererat till samtalsstödjaren",
    "da": "Leveret til rådgiveren",
    "en": "Delivered to the counsellor",
}
TYPING = {"sv": "skriver", "da": "skriver", "en": "is writing"}
ENDED = {
    "sv": "Samtalsstödjaren har avslutat chatten.",
    "da": "Rådgiveren har afsluttet chatten.",
    "en": "The counsellor has ended the chat.",
}


@pytest.mark.parametrize("lang", ["sv", "da", "en"])
async def test_caller_chats_with_a_counsellor_in_each_language(
    running: Running, page: Any, host_site: HostSite, lang: str
) -> None:
    line = await widget_line(running)
    frame = await open_widget(page, host_site.add(running, line, same_site=True))
    await choose_language(frame, lang)
    if lang == "sv":
        await snap(page, "language")
    counsellor = await running.counsellor(line)
    await frame.locator("#start").click()
    await expect(frame.locator("#queue")).to_contain_text(QUEUE[lang])
    if lang == "en":
        await snap(page, "queue")

    conv = await counsellor.take_next()
    await expect(frame.locator("#log")).to_contain_text(JOINED[lang])
    assert await caller_conversation(running, line) == conv
    assert await storage_size(frame) == 1  # the token, in the panel's sessionStorage
    await expect(frame.locator("#queue")).to_be_hidden()

    await frame.locator("#text").fill("hej, jag behöver prata")
    await counsellor.expect("typing", conversation=conv, on=True)
    await frame.locator("#text").press("Enter")
    first = await counsellor.expect("message", conversation=conv, seq=1)
    assert first["text"] == "hej, jag behöver prata" and first["id"].startswith("c-")
    mine = frame.locator(".msg.from-caller").first
    await expect(mine.locator(".meta")).to_contain_text(DELIVERED[lang])

    await counsellor.send({"type": "typing", "conversation": conv, "on": True})
    await expect(frame.locator("#typing")).to_contain_text(TYPING[lang])
    await counsellor.say(conv, "Hej, jag finns här. Berätta.")
    reply = frame.locator(".msg.from-staff")
    await expect(reply).to_have_count(1)
    await expect(reply).to_contain_text("Hej, jag finns här. Berätta.")
    await expect(reply.locator(".who")).to_have_text(ROLE[lang])
    await expect(reply).not_to_contain_text("Counsellor")  # never the real name
    await expect(frame.locator("#typing")).to_be_hidden()
    if lang == "sv":
        await snap(page, "chat")

    await counsellor.send({"type": "end", "conversation": conv})
    await expect(frame.locator("#ended-reason")).to_have_text(ENDED[lang])
    # Nothing of the conversation is left on the device.
    await expect(frame.locator("#log > *")).to_have_count(0)
    assert await storage_size(frame) == 0

    await frame.locator("input[name=score][value='4']").check()
    await frame.locator("#rate-comment").fill("Det hjälpte")
    await frame.locator("#rating button[type=submit]").click()
    await expect(frame.locator("#rate-thanks")).not_to_be_empty()
    row = await running.services.pool.fetchrow(
        "SELECT * FROM ratings WHERE conversation_id = $1", uuid.UUID(conv)
    )
    assert row["score"] == 4 and row["comment"] == "Det hjälpte"
    assert set(row.keys()) == {"conversation_id", "line_id", "score", "comment", "created_at"}
    await counsellor.close()


# -- crisis -------------------------------------------------------------------------


async def test_risky_message_shows_the_emergency_panel_before_anyone_joins(
    running: Running, page: Any, host_site: HostSite
) -> None:
    line = await widget_line(running, emergency=EMERGENCY_SE_DK)
    frame = await open_widget(page, host_site.add(running, line))
    await choose_language(frame, "sv")
    await frame.locator("#start").click()
    await expect(frame.locator("#queue")).to_be_visible()
    await expect(frame.locator("#emergency")).to_be_hidden()
    await frame.locator("#text").fill(RISKY)
    await frame.locator("#text").press("Enter")
    await expect(frame.locator(".msg.from-caller .meta")).to_contain_text("Skickat")
    await publish_emergency_if_no_triage(running, await caller_conversation(running, line))

    alert = frame.locator("#emergency")
    await expect(alert).to_be_visible()
    await expect(alert).to_have_attribute("role", "alert")
    await expect(alert).to_contain_text("Ring 112")
    await expect(alert.locator("a[href='tel:112']")).to_contain_text("Larmnummer")
    await expect(alert.locator("a[href='tel:70201201']")).to_be_visible()
    await expect(frame.locator("#queue")).to_be_visible()  # nobody has joined
    await snap(page, "emergency")
    assert await axe_violations(frame) == []


# -- quick exit ----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["button", "shift-in-panel", "shift-on-host-page"])
async def test_quick_exit_leaves_no_way_back(
    running: Running, page: Any, host_site: HostSite, how: str
) -> None:
    line = await widget_line(running, exit_path="/healthz")
    host_url = host_site.add(running, line, same_site=True)
    frame = await open_widget(page, host_url)
    await frame.locator("#start").click()
    await frame.locator("#text").fill("hjälp")
    await frame.locator("#text").press("Enter")
    await expect(frame.locator(".msg.from-caller .meta")).not_to_contain_text("Skickas")

    if how == "button":
        await frame.locator("#exit").click()
    elif how == "shift-in-panel":
        await frame.locator("#text").focus()
        for _ in range(3):
            await page.keyboard.press("Shift")
    else:
        await page.locator("h1").click()  # focus back on the host page
        for _ in range(3):
            await page.keyboard.press("Shift")
    await page.wait_for_url(f"{running.http}/healthz")

    await page.go_back()
    await asyncio.sleep(0.3)
    assert page.url != host_url, "Back returned to the page the caller left"
    # And the conversation did not survive: a fresh visit starts from the beginning.
    frame = await open_widget(page, host_url)
    await expect(frame.locator("#v-chat")).to_be_hidden()
    assert await storage_size(frame) == 0


async def test_escape_does_not_exit_and_quick_exit_is_above_the_banner(
    running: Running, page: Any, host_site: HostSite
) -> None:
    line = await widget_line(running)
    host_url = host_site.add(running, line)
    frame = await open_widget(page, host_url)
    await frame.locator("#start").click()
    await frame.locator("#text").press("Escape")
    await asyncio.sleep(0.2)
    assert page.url == host_url
    await expect(frame.locator("#text")).to_be_visible()

    # The quick-exit button is the topmost thing where it is drawn, banner or not.
    iframe_box = await page.locator("helpline-widget").bounding_box()
    exit_box = await frame.locator("#exit").bounding_box()
    assert iframe_box is not None and exit_box is not None
    x = exit_box["x"] + exit_box["width"] / 2
    y = exit_box["y"] + exit_box["height"] / 2
    on_top = await page.evaluate("([x, y]) => document.elementFromPoint(x, y).tagName", [x, y])
    assert on_top == "HELPLINE-WIDGET"
    # At 320 px wide the panel fills the screen and the exit stays visible.
    await page.set_viewport_size({"width": 320, "height": 560})
    await expect(frame.locator("#exit")).to_be_in_viewport()
    box = await frame.locator("#exit").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 320


# -- resilience -----------------------------------------------------------------------


async def test_dropped_connection_resumes_with_nothing_lost_or_doubled(
    running: Running, page: Any, host_site: HostSite
) -> None:
    line = await widget_line(running)
    counsellor = await running.counsellor(line)
    frame = await open_widget(page, host_site.add(running, line))
    await frame.locator("#start").click()
    conv = await counsellor.take_next()
    await frame.locator("#text").fill("ett")
    await frame.locator("#text").press("Enter")
    await counsellor.expect("message", conversation=conv, seq=1)

    # Every reconnect must go through this gate; it stays shut while "offline".
    gate = {"open": True, "sockets": []}

    async def route(ws: Any) -> None:
        if not gate["open"]:
            await ws.close()
            return
        gate["sockets"].append(ws)
        ws.connect_to_server()

    await page.context.route_web_socket("**/ws/caller", route)
    # The current socket was opened before the route: drop it from the browser side.
    gate["open"] = False
    await page.context.set_offline(True)
    await expect(frame.locator("#conn")).to_contain_text("anslutning")
    await counsellor.expect("caller_disconnected", conversation=conv)

    await counsellor.say(conv, "två")
    await counsellor.say(conv, "tre")
    await frame.locator("#text").fill("fyra, skrivet utan nät")
    await frame.locator("#text").press("Enter")
    offline_msg = frame.locator(".msg.from-caller", has_text="fyra")
    await expect(offline_msg).to_have_class("msg from-caller pending")
    await expect(offline_msg.locator(".meta")).to_contain_text("Skickas")

    gate["open"] = True
    await page.context.set_offline(False)
    await expect(offline_msg.locator(".meta")).to_contain_text("Levererat")
    await expect(frame.locator("#conn")).to_be_empty()
    got = await counsellor.expect("message", conversation=conv, seq=4)
    assert got["text"] == "fyra, skrivet utan nät"

    # A second drop, this time closed from the server's side of the socket.
    assert gate["sockets"], "the reconnect did not pass through the route"
    await counsellor.say(conv, "fem")
    await expect(frame.locator(".msg", has_text="fem")).to_have_count(1)
    await gate["sockets"][-1].close(code=1012, reason="restart")
    await counsellor.say(conv, "sex")
    await expect(frame.locator(".msg", has_text="sex")).to_have_count(1)

    for text in ("ett", "två", "tre", "fyra, skrivet utan nät", "fem", "sex"):
        await expect(frame.locator(".msg .text", has_text=text)).to_have_count(1)
    stored = await running.store.messages_after(uuid.UUID(conv), 0)
    assert [m.body for m in stored] == [
        "ett",
        "två",
        "tre",
        "fyra, skrivet utan nät",
        "fem",
        "sex",
    ]
    await counsellor.close()


async def test_reload_resumes_the_conversation_from_session_storage(
    running: Running, page: Any, host_site: HostSite
) -> None:
    line = await widget_line(running)
    counsellor = await running.counsellor(line)
    url = host_site.add(running, line, same_site=True)
    frame = await open_widget(page, url)
    await frame.locator("#start").click()
    conv = await counsellor.take_next()
    await frame.locator("#text").fill("före omladdning")
    await frame.locator("#text").press("Enter")
    await counsellor.expect("message", conversation=conv, seq=1)
    await counsellor.say(conv, "svar")
    await page.reload()
    frame = await panel(page)
    # The panel reopens itself and replays the transcript from the server.
    await expect(frame.locator("#v-chat")).to_be_visible()
    await expect(frame.locator(".msg .text", has_text="före omladdning")).to_have_count(1)
    await expect(frame.locator(".msg .text", has_text="svar")).to_have_count(1)
    assert "token" not in frame.url
    await counsellor.close()


# -- keyboard only ----------------------------------------------------------------------


async def test_keyboard_only_flow(running: Running, page: Any, host_site: HostSite) -> None:
    line = await widget_line(running)
    counsellor = await running.counsellor(line)
    await page.goto(host_site.add(running, line))
    frame = await panel(page)
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("() => document.activeElement.tagName") == "HELPLINE-WIDGET":
            break
    else:
        raise AssertionError("the launcher is not reachable with Tab")
    await page.keyboard.press("Enter")
    # Focus moves into the panel, onto the chosen language.
    await expect(frame.locator("input[name=lang][value=sv]")).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(frame.locator("html")).to_have_attribute("lang", "da")
    await page.keyboard.press("Tab")
    await expect(frame.locator("#start")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(frame.locator("#text")).to_be_focused()
    conv = await counsellor.take_next()
    await page.keyboard.type("hej fra tastaturet")
    await page.keyboard.press("Enter")
    got = await counsellor.expect("message", conversation=conv, seq=1)
    assert got["text"] == "hej fra tastaturet"
    await page.keyboard.press("Escape")  # does nothing: Escape is not an exit
    await expect(frame.locator("#text")).to_be_focused()
    # Minimise from the keyboard: focus returns to the launcher on the host page.
    await frame.locator("#minimise").focus()
    await page.keyboard.press("Enter")
    await wait_for(
        lambda: page.evaluate("() => document.activeElement.tagName === 'HELPLINE-WIDGET'")
    )
    await page.keyboard.press("Enter")
    await expect(frame.locator("#text")).to_be_focused()
    await counsellor.close()


# -- accessibility ------------------------------------------------------------------------


async def open_demo_page(running: Running, page: Any) -> Any:
    """The demo page (its two lines made if missing) and the panel's frame."""
    for line_id in ("adults", "young"):
        if await running.store.get_line(line_id) is None:
            await running.line(id=line_id)
    await page.goto(f"{running.http}/demo.html")
    return await panel(page)


async def test_demo_page_and_panel_have_no_serious_axe_violations(
    running: Running, page: Any
) -> None:
    frame = await open_demo_page(running, page)
    assert await axe_violations(page) == []
    await page.locator("helpline-widget").click()
    await expect(frame.locator("#line-choice")).to_be_visible()
    assert await axe_violations(frame) == []
    await frame.locator("#to-case").click()
    assert await axe_violations(frame) == []
    await frame.locator(".back").first.click()
    await frame.locator("#to-lookup").click()
    assert await axe_violations(frame) == []


async def test_privacy_note_states_the_retention_the_server_enforces(
    running: Running, page: Any
) -> None:
    kept = running.services.settings
    running.services.settings = kept.with_(retention_days=30)
    try:
        frame = await open_demo_page(running, page)
        await page.locator("helpline-widget").click()
        await expect(frame.locator("#privacy")).to_contain_text(" 30 ")
        await expect(frame.locator("#privacy")).not_to_contain_text(" 90 ")
    finally:
        running.services.settings = kept


# -- asynchronous cases ----------------------------------------------------------------------


async def test_leave_a_question_and_read_the_answer_with_the_code(
    running: Running, page: Any, host_site: HostSite
) -> None:
    line = await widget_line(running)
    frame = await open_widget(page, host_site.add(running, line))
    await choose_language(frame, "en")
    await frame.locator("#to-case").click()
    await frame.locator("#case-text").fill("How do I talk to my son about this?")
    await frame.locator("#case-form button[type=submit]").click()
    await expect(frame.locator("#code")).not_to_be_empty()
    code_text = await frame.locator("#code").text_content()
    assert code_text is not None
    words = code_text.split("-")
    assert len(words) == 3 and all(w.isalpha() for w in words)
    await snap(page, "case-code")

    member = await running.staff(line)
    async with httpx.AsyncClient(base_url=running.http) as staff_http:
        login = await staff_http.post(
            "/api/login", json={"username": member.username, "password": running.password}
        )
        csrf = login.json()["csrf_token"]
        listed = (await staff_http.get("/api/staff/cases")).json()["cases"]
        case = next(c for c in listed if c["line"] == line)
        answer = await staff_http.post(
            f"/api/staff/cases/{case['id']}/answer",
            json={"text": "Start by listening."},
            headers={"X-CSRF-Token": csrf},
        )
        assert answer.status_code == 200

    await frame.locator("#code-open").click()
    log = frame.locator("#case-log")
    await expect(log).to_contain_text("Start by listening.")
    await expect(log.locator(".from-staff .who")).to_have_text("A counsellor")
    await frame.locator("#case-reply-text").fill("Thank you, I will try.")
    await frame.locator("#case-reply button[type=submit]").click()
    await expect(log).to_contain_text("Thank you, I will try.")
    assert await axe_violations(frame) == []
