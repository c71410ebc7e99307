"""Helpers for the worker tests: job inputs, test pictures, and reading a video back."""

import io
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def job_input(prompt: str = "a lighthouse at dusk", duration: int = 5, **fields: Any) -> dict:
    job_id = f"job-{uuid.uuid4().hex[:12]}"
    return {"jobId": job_id, "prompt": prompt, "durationSec": duration, "outputKey": f"videos/{job_id}.mp4", **fields}


@dataclass
class Video:
    frames: np.ndarray  # (n, h, w, 3) uint8
    fps: float
    content_type: str


def download_video(s3: Any, bucket: str, key: str, tmp_path: Path) -> Video:
    obj = s3.get_object(Bucket=bucket, Key=key)
    path = tmp_path / Path(key).name
    path.write_bytes(obj["Body"].read())
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(stream)])
        return Video(frames=frames, fps=float(stream.average_rate), content_type=obj["ContentType"])


def image_bytes(width: int, height: int, fmt: str = "PNG") -> bytes:
    """A picture with structure (a gradient and a block), in the given format."""
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.uint8)[:, None, None]
    pixels = np.concatenate([np.broadcast_to(x, (height, width, 1)), np.broadcast_to(y, (height, width, 1)),
                             np.full((height, width, 1), 90, np.uint8)], axis=2).copy()
    pixels[height // 3 : height // 2, width // 3 : width // 2] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()
