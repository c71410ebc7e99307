"""CineWeave's RunPod GPU worker: Wan 2.2 TI2V-5B text/image-to-video -> H.264 MP4 -> R2.

``worker.VideoWorker`` is the cog-style core (``setup()`` once, ``run(input)`` per job);
``handler`` is the thin RunPod glue (``python -m worker_image.handler``).
"""

import os

# The worker never downloads from the Hugging Face Hub: weights come from the network volume, and
# the tiny model is built in-process. Set before any hub client reads it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
