"""The worker's failure kinds. Only the handler turns them into RunPod's ``{"error": ...}``."""


class InvalidInput(ValueError):
    """The job cannot succeed as asked (bad image, unreachable URL...): fail it, do not retry."""


class ContentRefused(Exception):
    """Moderation refused the conditioning image or a frame of the output: fail the job with ``code``."""

    def __init__(self, code, message: str):  # code: schemas.generation.WorkerFailure
        super().__init__(message)
        self.code = code
        self.message = message


class ModelUnavailable(RuntimeError):
    """No model can be loaded: the weights folder is missing and the tiny fallback is off."""


class ProfileUnavailable(RuntimeError):
    """The job asks for a quality profile whose weights this worker does not have: fail it
    (the pipeline refunds failed jobs), never serve it with another profile's model."""
