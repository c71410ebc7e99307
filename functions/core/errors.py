"""Domain errors: each names one reason a request or event cannot proceed."""


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class TooManyActiveJobs(DomainError):
    code = "too_many_active_jobs"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class JobAlreadyFinished(DomainError):
    code = "job_finished"


class InputRejected(DomainError):
    """Bad input from a client; ``code`` is specific (prompt_rejected, image_too_large, ...)."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message, field)
        self.code = code
        self.status = status
