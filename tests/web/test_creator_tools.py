"""The Create page's creator tools in headless Chromium: templates, ratio, negative prompt, shots."""

import pytest

from tests.helpers import wait_until

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


def test_the_portrait_frame_and_an_advanced_negative_prompt_reach_the_job(page, sign_in, make_user):
    user = make_user(credits=1)
    sign_in(user.user_id)
    page.goto("/app/create")
    landscape = page.locator("[data-testid='frame-16:9']").bounding_box()
    portrait = page.locator("[data-testid='frame-9:16']").bounding_box()
    assert landscape["width"] > landscape["height"] and portrait["height"] > portrait["width"]  # the shapes preview the frame
    assert page.is_checked("input[name=aspectRatio][value='16:9']")
    page.check("input[name=aspectRatio][value='9:16']", force=True)
    assert not page.is_visible("#negativePrompt")  # tucked under Advanced
    page.click("summary:text-is('Advanced')")
    page.fill("#negativePrompt", "blurry, text overlays")
    page.fill("#prompt", "a skateboarder at sunset")
    page.click("button[type=submit]")
    page.wait_for_selector(".pill[data-status=done]", timeout=30_000)
    assert page.inner_text("[data-testid=aspect-ratio]") == "9:16"
    assert page.inner_text("[data-testid=negative-prompt]") == "blurry, text overlays"
    job = user.client.job(page.url.rsplit("/", 1)[1])
    assert (job["aspectRatio"], job["video"]["width"], job["video"]["height"]) == ("9:16", 704, 1280)


def test_a_forbidden_negative_prompt_is_shown_under_advanced(page, sign_in, make_user):
    sign_in(make_user(credits=1).user_id)
    page.goto("/app/create")
    page.fill("#prompt", "a quiet lake")
    page.click("summary:text-is('Advanced')")
    page.fill("#negativePrompt", "forbiddenword")
    page.click("button[type=submit]")
    assert "content policy" in page.wait_for_selector("[data-testid=error-negativePrompt]").inner_text()


def test_remix_makes_a_child_with_the_parents_seed_and_the_pages_link_both_ways(page, sign_in, make_user):
    user = make_user(credits=2)
    parent_id = user.client.create_job("a red kite over hills", 5, seed=4242)["jobId"]
    sign_in(user.user_id)
    page.goto(f"/app/jobs/{parent_id}")
    page.wait_for_selector(".pill[data-status=done]", timeout=30_000)
    page.click("[data-testid=remix]")
    page.fill("#remix-prompt", "a blue kite over hills")
    page.click("[data-testid=remix-form] button[type=submit]")
    page.wait_for_url(lambda url: parent_id not in url)
    child_id = page.url.rsplit("/", 1)[1]
    assert page.inner_text("[data-testid=parent-link]") == parent_id
    child = user.client.job(child_id)
    assert (child["seed"], child["durationSec"], child["lineage"], child["prompt"]) == (4242, 5, "remix", "a blue kite over hills")
    page.click("[data-testid=parent-link]")
    page.wait_for_selector(f"[data-testid=children] a[data-job-id={child_id}]")


def test_the_dashboard_shows_each_clips_poster_and_plays_its_preview_on_hover_and_focus(page, sign_in, make_user):
    user = make_user(credits=1)
    job_id = user.client.create_job("a lantern festival", 5)["jobId"]
    wait_until(lambda: user.client.job(job_id)["status"] == "done", what="the job to finish")
    sign_in(user.user_id)
    tile = f"[data-job-id={job_id}]"
    poster = page.wait_for_selector(f"{tile} [data-testid=tile-poster]")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=poster)
    assert page.evaluate("img => [img.naturalWidth, img.naturalHeight]", poster) == [1280, 704]  # the clip's size
    page.hover(tile)
    preview = page.wait_for_selector(f"{tile} [data-testid=tile-preview]")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview)  # the WebP loads
    assert "preview.webp" in preview.get_attribute("src")
    page.mouse.move(0, 0)
    page.wait_for_selector(f"{tile} [data-testid=tile-poster]")
    page.focus(tile)
    page.wait_for_selector(f"{tile} [data-testid=tile-preview]")

    page.click(tile)
    page.wait_for_selector("[data-testid=video]")
    assert "poster.jpg" in page.get_attribute("[data-testid=video]", "poster")
    assert page.inner_text("[data-testid=provenance]").startswith("AI-made")


def test_the_create_page_switches_from_one_prompt_to_a_shot_list(page, sign_in, make_user):
    user = make_user(credits=3)
    sign_in(user.user_id)
    page.goto("/app/create")
    page.check("input[name=promptMode][value=shots]", force=True)
    assert page.is_checked("input[name=durationSec][value='10']")  # a shot list needs 10 or 15 s
    assert page.locator("[data-testid=shot-list] textarea").count() == 2 and not page.is_visible("#prompt")
    page.check("input[name=durationSec][value='15']", force=True)
    assert page.locator("[data-testid=shot-list] textarea").count() == 3
    for n, text in enumerate(["a kettle on a stove", "steam rises", "tea is poured"]):
        page.fill(f"#shot-{n}", text)
    page.click("button[type=submit]")
    page.wait_for_selector(".pill[data-status=done]", timeout=30_000)
    assert page.inner_text("[data-testid=shots]").splitlines() == ["a kettle on a stove", "steam rises", "tea is poured"]
    assert user.client.job(page.url.rsplit("/", 1)[1])["video"]["frames"] == 361


def test_a_forbidden_shot_is_flagged_on_that_shot(page, sign_in, make_user):
    sign_in(make_user(credits=2).user_id)
    page.goto("/app/create")
    page.check("input[name=promptMode][value=shots]", force=True)
    page.fill("#shot-0", "a calm beach")
    page.fill("#shot-1", "a forbiddenword wave")
    page.click("button[type=submit]")
    assert "content policy" in page.wait_for_selector("[data-testid=error-shot-1]").inner_text()


def test_extend_continues_a_clip_and_the_pages_link_both_ways(page, sign_in, make_user):
    user = make_user(credits=2)
    parent_id = user.client.create_job("a hot air balloon rises", 5)["jobId"]
    sign_in(user.user_id)
    page.goto(f"/app/jobs/{parent_id}")
    page.wait_for_selector(".pill[data-status=done]", timeout=30_000)
    page.click("[data-testid=extend]")
    assert page.locator("input[name=extendSec]").count() == 3  # +5, +10, +15 all fit under 30 s
    page.fill("#extend-prompt", "the balloon drifts over the sea")
    page.click("[data-testid=extend-form] button[type=submit]")
    page.wait_for_url(lambda url: parent_id not in url)
    child_id = page.url.rsplit("/", 1)[1]
    child = wait_until(lambda: (job := user.client.job(child_id))["status"] == "done" and job, what="the extension")
    assert page.wait_for_selector("[data-testid=parent-link]").inner_text() == parent_id
    assert (child["lineage"], child["credits"], child["video"]["frames"]) == ("extend", 1, 241)
    page.click("[data-testid=parent-link]")
    page.wait_for_selector(f"[data-testid=children] a[data-job-id={child_id}]")
