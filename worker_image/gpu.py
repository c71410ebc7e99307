"""Which GPU this worker runs on: what each job is costed at (RunPod prices every type apart).

CUDA names the device itself (``NVIDIA H100 80GB HBM3``). Without CUDA (the local stack's
workers, tests) the name RunPod gives the worker in its job-take URL (``?gpu=...``) stands in.
"""

from urllib.parse import parse_qs, urlsplit


def runpod_gpu(job_take_url: str) -> str | None:
    named = parse_qs(urlsplit(job_take_url).query).get("gpu")
    return named[0] if named else None


def gpu_name(device, job_take_url: str = "") -> str | None:
    """``device``: the ``torch.device`` the model runs on."""
    if device.type == "cuda":
        import torch

        return torch.cuda.get_device_name(device)
    return runpod_gpu(job_take_url)
