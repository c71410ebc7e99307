"""The web app's live job page (over the event stream, not polling) and the Account page's
webhooks, in headless Chromium against the local stack, with a webhook receiver on loopback."""

import re

import pytest

from cineweave_client import verify_webhook
from tests.helpers import wait_until
from tests.webhook_receiver import headers_of

pytestmark = pytest.mark.e2e


def test_the_job_page_follows_its_event_stream_and_the_account_page_shows_the_webhooks(page, sign_in, make_user, receiver):
    user = make_user(credits=1)
    sign_in(user.user_id)
    page.click("nav >> text=Account")
    page.fill("[data-testid=webhook-url]", receiver.url())
    page.click("[data-testid=webhook-add]")
    secret = page.inner_text("[data-testid=webhook-secret] code")
    assert secret.startswith("whsec_")
    page.wait_for_selector(f"[data-testid=webhook-endpoints] >> text={receiver.url()}")

    reads: list[str] = []
    page.on("request", lambda request: reads.append(request.url) if "/jobs/job_" in request.url else None)
    page.goto("/app/create")
    page.fill("#prompt", "a lighthouse beam sweeping fog [slow:3]")
    page.check("input[name=durationSec][value='5']", force=True)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/app/jobs/job_\w+$"))
    job_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector(".pill[data-status=running]")
    page.wait_for_selector(".pill[data-status=done]", timeout=30_000)
    assert any(url.endswith(f"/jobs/{job_id}/events") for url in reads)
    polls = [url for url in reads if url.endswith(f"/jobs/{job_id}")]
    assert len(polls) <= 2, f"the page followed the stream, it did not poll: {polls}"

    got = wait_until(lambda: [verify_webhook(r.body, headers_of(r), secret).status.value for r in receiver.requests][-1:] == ["done"],
                     what="job.succeeded at the receiver")
    assert got
    page.click("nav >> text=Account")
    page.wait_for_selector("[data-testid=webhook-deliveries] >> text=job.succeeded")
    assert page.is_visible("[data-testid=webhook-deliveries] .pill-delivery-succeeded")
