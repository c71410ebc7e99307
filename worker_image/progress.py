"""Maps the worker's milestones onto ``GenerationProgress``: one percent scale, never going back.

Each stage owns a band of the 0-100 scale, sized after where the time goes on the real model
(denoising is most of it). A clip of N segments splits the segment band (5-95) into N equal
parts, each with its own denoising and decoding share, so the percentage covers the whole clip
and every update while a segment runs names it (``segment 2 of 3``). Every denoising step is
reported; an update that would repeat the previous one is not sent. Decoding and MP4 encoding
are interleaved chunk by chunk, so ``decoding`` covers both; ``encoding-video`` is the encoder's
flush and the file check.
"""

from collections.abc import Callable

from schemas.generation import GenerationProgress, GenerationStage

ProgressSink = Callable[[GenerationProgress], None]

BANDS: dict[GenerationStage, tuple[int, int]] = {
    GenerationStage.LOADING_IMAGE: (0, 2),
    GenerationStage.LOADING_VIDEO: (0, 2),
    GenerationStage.ENCODING_PROMPT: (2, 5),
    GenerationStage.ENCODING_VIDEO: (95, 97),
    GenerationStage.UPLOADING: (97, 100),
}
SEGMENTS_BAND = (5, 95)
# Within one segment's part of SEGMENTS_BAND: denoising first, then decoding (80 : 10 for one segment).
SEGMENT_SHARES: dict[GenerationStage, tuple[float, float]] = {
    GenerationStage.DENOISING: (0.0, 8 / 9),
    GenerationStage.DECODING: (8 / 9, 1.0),
}


class ProgressTracker:
    def __init__(self, sink: ProgressSink, segments: int = 1):
        self._sink = sink
        self._segments = segments
        self._segment: int | None = None  # 1-based while a segment runs
        self._percent = 0
        self._last: GenerationProgress | None = None

    def start_segment(self, number: int) -> None:
        """Segment ``number`` (1-based) begins: later updates name it, until ``end_segments``."""
        self._segment = number

    def end_segments(self) -> None:
        self._segment = None

    def begin(self, stage: GenerationStage) -> None:
        self._emit(stage, self._band(stage)[0])

    def advance(self, stage: GenerationStage, done: int, total: int, with_steps: bool = False) -> None:
        """``done`` of ``total`` units of ``stage`` are finished (steps are reported for denoising)."""
        low, high = self._band(stage)
        percent = low + int((high - low) * done / total)
        self._emit(stage, percent, step=done if with_steps else None, steps=total if with_steps else None)

    def complete(self) -> None:
        self._emit(GenerationStage.UPLOADING, 100)

    def _band(self, stage: GenerationStage) -> tuple[int, int]:
        if stage not in SEGMENT_SHARES:
            return BANDS[stage]
        low, high = SEGMENTS_BAND
        width = (high - low) / self._segments
        start = low + width * ((self._segment or 1) - 1)
        first, last = SEGMENT_SHARES[stage]
        return round(start + width * first), round(start + width * last)

    def _emit(self, stage: GenerationStage, percent: int, step: int | None = None, steps: int | None = None) -> None:
        self._percent = max(self._percent, percent)
        segment = (self._segment, self._segments) if self._segment is not None else (None, None)
        update = GenerationProgress(stage=stage, percent=self._percent, step=step, steps=steps,
                                    segment=segment[0], segments=segment[1])
        if update != self._last:  # each update is an HTTP call: send only news
            self._last = update
            self._sink(update)
