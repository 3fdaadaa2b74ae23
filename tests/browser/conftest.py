"""Fixtures of the browser suite: one Home Assistant, one lab, one Chromium.

The suite is a person's first hour with WakeHub, in order (onboarding, adding
every server, the device pages, a cascade, the logbook), so its fixtures are
module-scoped: one Home Assistant process for the whole suite keeps it short.

It runs in a pytest of its own, without the Home Assistant test plugin (whose
per-test event loops cannot share the thread with Playwright's sync API) and
without tests/conftest.py (which needs that plugin):

    .venv/bin/pytest -p no:homeassistant --confcutdir=tests/browser tests/browser

as scripts/test and scripts/screenshots run it. In any other pytest run (the
main suite) its tests are skipped, saying so. Without Playwright or Chromium
(Debian's `chromium`, never a downloaded browser) they skip and say why.
"""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    CHROMIUM,
    DemoLab,
    HomeAssistant,
    remove,
    throwaway_directory,
)

BROWSER_DIR = Path(__file__).parent
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


RUN_ALONE = (
    "browser suite: run it on its own, "
    "pytest -p no:homeassistant --confcutdir=tests/browser tests/browser "
    "(scripts/test and scripts/screenshots do)"
)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip the suite inside the main suite's run (Home Assistant's plugin on)."""
    if not config.pluginmanager.has_plugin("homeassistant"):
        return
    skip = pytest.mark.skip(reason=RUN_ALONE)
    for item in items:
        if Path(str(item.path)).is_relative_to(BROWSER_DIR):
            item.add_marker(skip)


def chromium_missing() -> str | None:
    """Why the suite cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements_test.txt)"
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[DemoLab, HomeAssistant]]:
    """The demo lab and a Home Assistant, both fresh, for the whole module."""
    if reason := chromium_missing():
        pytest.skip(reason)
    directory = throwaway_directory()
    lab = DemoLab(directory)
    home = HomeAssistant(directory)
    try:
        lab.start()
        home.start()
        yield lab, home
    finally:
        home.stop()
        lab.stop()
        if os.environ.get("WAKEHUB_KEEP_BROWSER_RUN"):
            print(f"browser run kept in {directory}")
        else:
            remove(directory)


@pytest.fixture(scope="module")
def lab(stack: tuple[DemoLab, HomeAssistant]) -> DemoLab:
    return stack[0]


@pytest.fixture(scope="module")
def home(stack: tuple[DemoLab, HomeAssistant]) -> HomeAssistant:
    return stack[1]


@pytest.fixture(scope="module")
def browser_page(home: HomeAssistant) -> Iterator[Any]:
    """One Chromium tab, logged in once onboarding is done (same context)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)  # Home Assistant's pages load lazily
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True
        )
        # The OVHcloud simulator's validation page has a self-signed certificate.
        context = browser.new_context(
            viewport={"width": 1280, "height": 860},
            ignore_https_errors=True,
            locale="en-US",
            timezone_id="UTC",
        )
        context.set_default_timeout(20_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, attach both processes' logs and a screenshot."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    lab_, home_ = funcargs.get("lab"), funcargs.get("home")
    page = funcargs.get("browser_page")
    if lab_ is not None:
        report.sections.append(("lab log", lab_.log()[-4000:]))
    if home_ is not None:
        report.sections.append(("Home Assistant log", home_.log()[-6000:]))
    if page is not None and home_ is not None:
        path = home_.directory / "failure.png"
        try:
            page.screenshot(path=str(path))
            report.sections.append(("screenshot", str(path)))
        except Exception as err:
            report.sections.append(("screenshot", f"none: {err}"))
