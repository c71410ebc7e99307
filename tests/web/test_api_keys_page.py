"""The Account page's API keys in headless Chromium: a key is shown once, works as its user, and
once revoked on the page it is a 401."""

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_the_account_page_creates_shows_once_and_revokes_an_api_key(page, sign_in, make_user, stack):
    user = make_user(credits=0)
    sign_in(user.user_id)
    page.click("nav >> text=Account")
    page.fill("[data-testid=api-key-name]", "render farm")
    page.click("[data-testid=api-key-create]")
    key = page.inner_text("[data-testid=api-key-shown] code")
    assert key.startswith("cw_live_")
    listed = page.wait_for_selector("[data-testid=api-key-list] >> text=render farm").inner_text()
    assert key[: len("cw_live_") + 16] in page.inner_text("[data-testid=api-key-list]") and key not in listed

    as_key = requests.get(f"{stack.base_url}/credits", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert as_key.status_code == 200 and as_key.json()["balance"] == 0

    page.click("[data-testid=api-key-revoke]")
    page.wait_for_selector("text=No keys yet.")
    revoked = requests.get(f"{stack.base_url}/credits", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert revoked.status_code == 401
    page.reload()
    assert key not in page.content()  # shown once: never again
