"""The staff sign-in page works in a real browser."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import axe_violations
from tests.server.conftest import Running


async def test_sign_in_page_signs_in_and_is_accessible(running: Running, page: Any) -> None:
    member = await running.staff(await running.line())
    await page.goto(f"{running.http}/staff/")
    assert await axe_violations(page) == []
    await page.fill("#username", member.username)
    await page.fill("#password", "wrong")
    await page.click("button[type=submit]")
    await expect(page.locator("#status")).to_contain_text("wrong")
    await page.fill("#password", running.password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/staff/console.html")
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "helpline_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
