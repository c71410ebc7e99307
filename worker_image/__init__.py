"""CineWeave's RunPod GPU worker: Wan 2.2 TI2V-5B text/image-to-video -> H.264 MP4 -> R2.

``worker.VideoWorker`` is the cog-style core (``setup()`` once, ``run(input)`` per job);
``handler`` is the thin RunPod glue (``python -m worker_image.handler``).
"""

import os

# The worker never downloads from the Hugging Face Hub: weights come from the network volume, and
# the tiny model is built in-process. Set before any hub client reads it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# OpenMP threads that spin while waiting collapse when other processes want the cores (the local
# stack runs emulators beside the worker): measured 10x slower on 2 busy cores. Read by the
# OpenMP runtime when torch loads, so set before any import of torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
