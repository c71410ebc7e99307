"""Announces a job's status change to the functions that follow it (deliver_webhooks).

Called after the commit that moved the job. The commit itself set ``webhooksPending`` on the job,
so an announcement lost here (a failed publish, a crash) is found by the webhook tick: nothing a
receiver should hear of depends on this publish succeeding.
"""

from functions.bootstrap import Deps
from functions.handlers.create_job import announce
from schemas.documents import JobDoc
from schemas.events import JobStatusChanged
from schemas.jobs import JobStatus
from schemas.webhooks import EVENT_FOR_STATUS


def status_changed(deps: Deps, before: JobDoc, after: JobStatus) -> None:
    """``before`` is the job as read before the decision; ``after`` the status the decision left."""
    if after is not before.status and after in EVENT_FOR_STATUS:
        announce(deps, JobStatusChanged(job_id=before.job_id, status=after, occurred_at=deps.now(), trace_id=before.trace_id))
