"""The Create page's creator tools in headless Chromium: templates, ratio, negative prompt, shots."""

import pytest

pytestmark = pytest.mark.e2e


def test_a_template_fills_the_prompt_and_a_camera_move_is_added_to_it(page, sign_in, make_user):
    sign_in(make_user(credits=1).user_id)
    page.goto("/app/create")
    page.wait_for_selector("[data-testid=template-picker]")
    page.select_option("select[name=template-subject]", "game-idle-forest")
    prompt = page.input_value("#prompt")
    assert prompt.startswith("A stylised fantasy forest clearing")
    page.fill("#prompt", prompt + " at dawn")  # the user edits it
    page.select_option("select[name=template-camera]", "camera-orbit")
    assert page.input_value("#prompt").endswith("at dawn, the camera orbits slowly around the subject")
    assert page.input_value("select[name=template-camera]") == ""  # ready for the next pick
