"""Maps the worker's milestones onto ``GenerationProgress``: one percent scale, never going back.

Each stage owns a band of the 0-100 scale, sized after where the time goes on the real model
(denoising is most of it). Every denoising step is reported; an update that would repeat the
previous one is not sent. Decoding and MP4 encoding are interleaved chunk by chunk, so the
``decoding`` band covers both; ``encoding-video`` is the encoder's flush and the file check.
"""

from collections.abc import Callable

from schemas.generation import GenerationProgress, GenerationStage

ProgressSink = Callable[[GenerationProgress], None]

BANDS: dict[GenerationStage, tuple[int, int]] = {
    GenerationStage.LOADING_IMAGE: (0, 2),
    GenerationStage.ENCODING_PROMPT: (2, 5),
    GenerationStage.DENOISING: (5, 85),
    GenerationStage.DECODING: (85, 95),
    GenerationStage.ENCODING_VIDEO: (95, 97),
    GenerationStage.UPLOADING: (97, 100),
}


class ProgressTracker:
    def __init__(self, sink: ProgressSink):
        self._sink = sink
        self._percent = 0
        self._last: GenerationProgress | None = None

    def begin(self, stage: GenerationStage) -> None:
        self._emit(stage, BANDS[stage][0])

    def advance(self, stage: GenerationStage, done: int, total: int, with_steps: bool = False) -> None:
        """``done`` of ``total`` units of ``stage`` are finished (steps are reported for denoising)."""
        low, high = BANDS[stage]
        percent = low + (high - low) * done // total
        self._emit(stage, percent, step=done if with_steps else None, steps=total if with_steps else None)

    def complete(self) -> None:
        self._emit(GenerationStage.UPLOADING, 100)

    def _emit(self, stage: GenerationStage, percent: int, step: int | None = None, steps: int | None = None) -> None:
        self._percent = max(self._percent, percent)
        update = GenerationProgress(stage=stage, percent=self._percent, step=step, steps=steps)
        if update != self._last:  # each update is an HTTP call: send only news
            self._last = update
            self._sink(update)
