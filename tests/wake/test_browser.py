"""A real browser opens a wake link from all-off: it sees the layers come up one
by one, then lands on the service's own page.

Chromium from the system (/usr/bin/chromium) driven by Playwright; no browser is
ever downloaded. The waiting page is saved to docs/screenshots/wake-page.png
while the VM starts (the node already up), as a phone shows it.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
import pytest

from tests.wake.conftest import JELLYFIN, WakeLab

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).parents[2] / "docs" / "screenshots" / "wake-page.png"

async_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright is not installed in this venv"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no system Chromium at /usr/bin/chromium"
)


async def test_wake_link_in_a_real_browser(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    # Slow enough for a person (and the screenshot) to see each step.
    wl.lab.node.boot_delay = 1.5
    wl.lab.pve.start_delay = 1.5
    link = f"http://127.0.0.1:{wl.client.server.port}{wl.wake}"
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(
                viewport={"width": 412, "height": 760}, device_scale_factor=2
            )
            await page.goto(link)
            heading = page.locator("h1")
            assert "Starting jellyfin" in await heading.inner_text()
            layers = page.locator("ol.layers li")
            assert [
                await layers.nth(i).locator("b").inner_text() for i in range(3)
            ] == [
                "Node pve1",
                "docker",
                "jellyfin",
            ]
            # The node comes up first, while the page stays on the same address.
            await page.wait_for_selector("ol.layers li.up", timeout=20_000)
            first_up = await page.locator("ol.layers li.up b").first.inner_text()
            assert first_up == "Node pve1"
            assert page.url == link
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))
            # Then it lands on the service itself.
            await page.wait_for_url(wl.service_url, timeout=30_000)
            assert await page.locator("h1").inner_text() == "jellyfin"
        finally:
            await browser.close()
    assert hass.states.get(JELLYFIN).state == "on"
