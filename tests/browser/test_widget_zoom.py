"""WCAG 1.4.4 / 1.4.10: the panel works at 200 % zoom without horizontal scrolling.

200 % zoom on a 1280 x 800 screen is a 640 x 400 CSS-pixel viewport at device
scale 2; that is what the browser context emulates here.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.test_widget import HostSite, host_site, open_widget, widget_line  # noqa: F401
from tests.server.conftest import Running


async def test_panel_is_usable_at_200_percent_zoom(
    running: Running,
    browser: Any,
    host_site: HostSite,  # noqa: F811
) -> None:
    context = await browser.new_context(
        locale="en-GB", viewport={"width": 640, "height": 400}, device_scale_factor=2
    )
    page = await context.new_page()
    try:
        line = await widget_line(running)
        frame = await open_widget(page, host_site.add(running, line))
        await frame.locator("#start").click()
        await expect(frame.locator("#exit")).to_be_in_viewport()
        text = frame.locator("#text")
        await text.scroll_into_view_if_needed()
        await expect(text).to_be_visible()
        await text.fill("hello at 200 percent")
        send = frame.locator("#compose button[type=submit]")
        await send.scroll_into_view_if_needed()
        await expect(send).to_be_in_viewport()
        await send.click()
        await expect(frame.locator("#log")).to_contain_text("hello at 200 percent")
        # Reflow: no horizontal scrolling inside the panel.
        overflow = await frame.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1
    finally:
        await context.close()
