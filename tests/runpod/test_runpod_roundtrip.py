"""The RunPod client against the real stand-in, with a real SDK worker running devstack.test_worker."""

from itertools import pairwise
from typing import Any

import pytest
from runpod_stack import StandInHandle, WebhookReceiver, generation_input, wait_until

from functions.adapters.runpod import (
    RunPodClient,
    RunPodJobNotFound,
    RunPodRejected,
    RunPodUnavailable,
)
from schemas.generation import GenerationOutput
from schemas.runpod import RunPodState, RunPodStatus, RunPodWebhook

MINUTE_MS = 60_000


def submit(client: RunPodClient, job_input: dict[str, Any], webhook: str, **policy: int) -> str:
    return client.run(
        job_input,
        webhook,
        execution_timeout_ms=policy.get("execution_timeout_ms", MINUTE_MS),
        ttl_ms=policy.get("ttl_ms", 10 * MINUTE_MS),
    )


def final_status(client: RunPodClient, job_id: str, timeout: float = 10.0) -> RunPodStatus:
    return wait_until(
        lambda: (status := client.status(job_id)).status.is_final and status, timeout, f"{job_id} to end"
    )


def in_state(client: RunPodClient, job_id: str, state: RunPodState) -> RunPodStatus:
    return wait_until(lambda: (status := client.status(job_id)).status == state and status, what=f"{job_id} {state}")


def one_webhook(standin: StandInHandle, receiver: WebhookReceiver, job_id: str) -> RunPodWebhook:
    """Waits until the delivery is done, then checks it arrived exactly once."""
    wait_until(lambda: standin.deliveries(job_id, "delivered"), what=f"webhook of {job_id}")
    bodies = receiver.bodies(job_id)
    assert len(bodies) == 1, bodies
    return RunPodWebhook.model_validate(bodies[0])


def test_a_job_runs_on_the_sdk_worker_and_its_webhook_echoes_the_input(
    stack: StandInHandle, receiver: WebhookReceiver, bucket: Any
) -> None:
    client = stack.client()
    job_input = generation_input(seed=7)
    job_id = submit(client, job_input, receiver.url())

    status = final_status(client, job_id)

    assert status.status == RunPodState.COMPLETED, status
    output = GenerationOutput.model_validate(status.output)
    assert (output.r2_key, output.model, output.seed, output.frames) == (job_input["outputKey"], "test-handler", 7, 121)
    assert status.delay_time is not None and status.execution_time is not None
    stored = bucket.get_object(Bucket="cineweave-runpod-tests", Key=output.r2_key)
    assert stored["ContentType"] == "video/mp4"
    webhook = one_webhook(stack, receiver, job_id)
    assert webhook.input == job_input
    assert (webhook.status, webhook.output) == (RunPodState.COMPLETED, status.output)


def test_status_shows_the_workers_progress_while_in_progress(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    client = stack.client()
    job_id = submit(client, generation_input("slow [slow:1.5]"), receiver.url())

    progress = wait_until(lambda: (s := client.status(job_id)).status == RunPodState.IN_PROGRESS and s.output)

    assert progress["stage"] == "denoising"
    assert final_status(client, job_id).status == RunPodState.COMPLETED


@pytest.mark.parametrize(("prompt", "message"), [("[fail]", "failed on purpose"), ("[crash]", "crashed on purpose")])
def test_a_failing_handler_ends_failed_with_its_error_in_the_webhook(
    stack: StandInHandle, receiver: WebhookReceiver, prompt: str, message: str
) -> None:
    client = stack.client()
    job_id = submit(client, generation_input(prompt), receiver.url())

    status = final_status(client, job_id)

    assert status.status == RunPodState.FAILED and message in (status.error or "")
    webhook = one_webhook(stack, receiver, job_id)
    assert webhook.status == RunPodState.FAILED and message in (webhook.error or "")


def test_cancel_while_queued_and_while_running_and_the_worker_is_freed(
    stack: StandInHandle, receiver: WebhookReceiver
) -> None:
    client = stack.client()
    running = submit(client, generation_input("[slow:30]"), receiver.url())
    in_state(client, running, RunPodState.IN_PROGRESS)
    queued = submit(client, generation_input(), receiver.url())  # the only worker is busy

    assert client.status(queued).status == RunPodState.IN_QUEUE
    assert client.cancel(queued).status == RunPodState.CANCELLED
    assert client.cancel(running).status == RunPodState.CANCELLED

    for job_id in (queued, running):
        assert one_webhook(stack, receiver, job_id).status == RunPodState.CANCELLED
    # The stop reached the worker: a new job runs now, not after the 30 s one.
    assert final_status(client, submit(client, generation_input(), receiver.url())).status == RunPodState.COMPLETED


def test_a_job_running_past_its_execution_timeout_times_out(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    client = stack.client()
    job_id = submit(client, generation_input("[slow:30]"), receiver.url(), execution_timeout_ms=700)

    assert final_status(client, job_id).status == RunPodState.TIMED_OUT
    assert one_webhook(stack, receiver, job_id).status == RunPodState.TIMED_OUT
    assert final_status(client, submit(client, generation_input(), receiver.url())).status == RunPodState.COMPLETED


def test_a_job_past_its_ttl_is_deleted_even_while_running(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    client = stack.client()
    job_id = submit(client, generation_input("[slow:30]"), receiver.url(), ttl_ms=1000)
    in_state(client, job_id, RunPodState.IN_PROGRESS)

    wait_until(lambda: _gone(client, job_id), what="the ttl to delete the job")

    with pytest.raises(RunPodJobNotFound):
        client.cancel(job_id)
    _webhook_of_another_job_arrives(stack, receiver, client)
    assert stack.deliveries(job_id) == [] and receiver.bodies(job_id) == []


def test_results_are_forgotten_after_the_retention_period(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    client = stack.client()
    job_id = submit(client, generation_input(), receiver.url(), ttl_ms=24 * 60 * MINUTE_MS)
    final_status(client, job_id)

    stack.control("clock/advance", {"seconds": 29 * 60})
    assert client.status(job_id).status == RunPodState.COMPLETED
    stack.control("clock/advance", {"seconds": 60})
    assert _gone(client, job_id)


def test_a_dropped_webhook_is_never_delivered(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    stack.control("webhooks/drop", {"count": 1})
    client = stack.client()
    job_id = submit(client, generation_input(), receiver.url())

    assert final_status(client, job_id).status == RunPodState.COMPLETED
    wait_until(lambda: stack.deliveries(job_id, "dropped"))
    _webhook_of_another_job_arrives(stack, receiver, client)
    assert receiver.bodies(job_id) == []


@pytest.mark.parametrize("concurrent", [False, True])
def test_a_duplicated_webhook_is_delivered_twice(
    stack: StandInHandle, receiver: WebhookReceiver, concurrent: bool
) -> None:
    stack.control("webhooks/duplicate", {"count": 1, "concurrent": concurrent})
    client = stack.client()
    job_id = submit(client, generation_input(), receiver.url("slow"))

    wait_until(lambda: len(stack.deliveries(job_id, "delivered")) == 2, what="two deliveries")

    first, second = receiver.bodies(job_id)
    assert first == second and first["status"] == RunPodState.COMPLETED
    assert receiver.max_in_flight == (2 if concurrent else 1)


def test_a_failed_delivery_is_retried_twice_then_given_up(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    client = stack.client()
    job_id = submit(client, generation_input(), receiver.url("fail"))

    wait_until(lambda: stack.deliveries(job_id, "gave-up"), what="the deliveries to give up")

    attempts = stack.deliveries(job_id, "failed")
    assert [(a["attempt"], a["statusCode"]) for a in attempts] == [(1, 500), (2, 500), (3, 500)]
    arrivals = receiver.times(job_id)
    assert len(arrivals) == 3
    assert all(later - earlier >= 0.19 for earlier, later in pairwise(arrivals))


def test_a_delayed_webhook_arrives_late(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    stack.control("webhooks/delay", {"count": 1, "seconds": 0.5})
    client = stack.client()
    job_id = submit(client, generation_input(), receiver.url())
    status = final_status(client, job_id)

    webhook = one_webhook(stack, receiver, job_id)

    delivered = stack.deliveries(job_id, "delivered")[0]["at"]
    assert webhook.status == status.status
    assert delivered - _ended_at(stack, job_id) >= 0.5


def test_run_answering_5xx_twice_is_retried_until_it_succeeds(
    standin: StandInHandle, receiver: WebhookReceiver
) -> None:
    standin.control("run-errors", {"count": 2, "status": 503})

    job_id = submit(standin.client(), generation_input(), receiver.url())

    assert [run["statusCode"] for run in standin.control("runs")] == [503, 503, 200]
    assert standin.control("runs")[-1]["jobId"] == job_id


def test_run_answering_5xx_forever_gives_up_after_bounded_retries(standin: StandInHandle) -> None:
    standin.control("run-errors", {"count": 50, "status": 500})

    with pytest.raises(RunPodUnavailable):
        submit(standin.client(max_retries=2), generation_input(), "http://127.0.0.1:9/hook")

    assert len(standin.control("runs")) == 3


def test_a_429_is_retried_after_retry_after(standin: StandInHandle) -> None:
    standin.control("run-errors", {"count": 1, "status": 429, "retryAfterS": 0.25})
    sleeps: list[float] = []

    submit(standin.client(sleep=sleeps.append), generation_input(), "http://127.0.0.1:9/hook")

    assert len(sleeps) == 1 and sleeps[0] >= 0.25


def test_a_wrong_api_key_is_rejected(standin: StandInHandle) -> None:
    with pytest.raises(RunPodRejected) as rejected:
        submit(standin.client(api_key="wrong"), generation_input(), "http://127.0.0.1:9/hook")

    assert rejected.value.status_code == 401
    assert standin.control("runs") == []


def test_unknown_jobs_are_not_found(standin: StandInHandle) -> None:
    client = standin.client()
    for call in (client.status, client.cancel):
        with pytest.raises(RunPodJobNotFound):
            call("no-such-job")


def test_a_job_told_to_fail_ends_failed_without_a_worker(standin: StandInHandle, receiver: WebhookReceiver) -> None:
    standin.control("jobs/fail", {"count": 1, "error": "GPU fell off"})
    client = standin.client()
    job_id = submit(client, generation_input(), receiver.url())

    status = final_status(client, job_id)

    assert (status.status, status.error) == (RunPodState.FAILED, "GPU fell off")
    assert "workerId" not in status.to_wire()
    assert one_webhook(standin, receiver, job_id).error == "GPU fell off"


def test_a_lost_job_vanishes_without_a_webhook(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    client = stack.client()
    job_id = submit(client, generation_input("[slow:30]"), receiver.url())
    in_state(client, job_id, RunPodState.IN_PROGRESS)

    stack.control("jobs/lose", {"jobId": job_id})

    assert _gone(client, job_id)
    _webhook_of_another_job_arrives(stack, receiver, client)
    assert stack.deliveries(job_id) == []


def test_health_counts_jobs_and_workers(stack: StandInHandle, receiver: WebhookReceiver) -> None:
    client = stack.client()
    final_status(client, submit(client, generation_input(), receiver.url()))

    health = client.health()

    assert health["jobs"]["completed"] == 1 and health["jobs"]["inQueue"] == 0
    assert health["workers"]["idle"] + health["workers"]["running"] >= 1


def _gone(client: RunPodClient, job_id: str) -> bool:
    try:
        client.status(job_id)
    except RunPodJobNotFound:
        return True
    return False


def _webhook_of_another_job_arrives(stack: StandInHandle, receiver: WebhookReceiver, client: RunPodClient) -> None:
    """A later job's webhook, delivered: whatever the earlier job would have sent is out by now."""
    one_webhook(stack, receiver, final_status(client, submit(client, generation_input(), receiver.url())).id)


def _ended_at(stack: StandInHandle, job_id: str) -> float:
    job = next(job for job in stack.control("jobs") if job["id"] == job_id)
    return job["endedAt"]
