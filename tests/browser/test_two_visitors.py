"""Two visitors of one `nim-widget app` get independent wizards: each page visit runs its own kernel,
so what one person picks or types never shows up in the other's page (issue 6, isolation)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from voila_app import AppServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

LOAD_TIMEOUT = 60_000


def test_two_visitors_get_independent_wizards(browser: Browser, app_server: AppServer) -> None:
    first_context, second_context = browser.new_context(), browser.new_context()
    try:
        first, second = first_context.new_page(), second_context.new_page()
        for page in (first, second):
            page.goto(app_server.url)
            expect(page.locator(".nimw-root")).to_be_visible(timeout=LOAD_TIMEOUT)

        # the first visitor searches, picks a model and moves on to step 2
        first.locator(".nimw-picker-search input").fill("arctic")
        listbox = first.locator(".nimw-picker-list select")
        expect(listbox.locator("option")).to_have_count(1, timeout=LOAD_TIMEOUT)
        listbox.select_option(index=0)
        next_button = first.locator("button.nimw-next")
        expect(next_button).to_be_enabled(timeout=LOAD_TIMEOUT)
        next_button.click()
        expect(first.locator(".nimw-page-deployment")).to_be_visible(timeout=LOAD_TIMEOUT)

        # the second visitor's wizard has not moved and has nothing typed or picked
        expect(second.locator(".nimw-page-deployment")).to_be_hidden()
        expect(second.locator(".nimw-picker-search input")).to_have_value("")
        expect(second.locator("button.nimw-next")).to_be_disabled()
        second.locator(".nimw-picker-search input").fill("llama 3.1 8b")
        expect(second.locator(".nimw-picker-list select option")).to_have_count(2, timeout=LOAD_TIMEOUT)

        # and the second visitor's typing did not reach the first page either
        expect(first.locator(".nimw-page-deployment")).to_be_visible()
        first.locator("button.nimw-back").click()
        expect(first.locator(".nimw-picker-search input")).to_have_value("arctic", timeout=LOAD_TIMEOUT)
    finally:
        first_context.close()
        second_context.close()
