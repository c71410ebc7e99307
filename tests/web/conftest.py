"""Browser fixtures: the built app served by the test stack's gateway, and headless Chromium."""

import pytest

from tests.web.browser import DESKTOP, build_web_app, launch


@pytest.fixture(scope="session")
def web_dist():
    return build_web_app()


@pytest.fixture(scope="session")
def browser(web_dist):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(viewport=DESKTOP, base_url=stack.base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def sign_in(page, stack, issuer):
    """Signs the page in by pasting a dev session token, as a developer would."""

    def as_user(user_id: str, admin: bool = False):
        page.goto("/app/")
        page.fill("textarea[name=token]", issuer.mint(user_id, azp=stack.base_url, admin=admin))
        page.click("text=Use this token")
        page.wait_for_selector("header.topbar")
        return page

    return as_user
