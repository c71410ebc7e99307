"""Latency histograms that add up: fixed buckets, so shards and days merge by summing counts.

Percentiles cannot be summed, histograms can. The buckets grow by 10 % from 0.5 s to about two
hours, so a percentile read from them is the upper edge of its bucket: at most 10 % above the
true value, never below it (a target met on the histogram is met in fact).
"""

import math
from collections.abc import Iterable, Mapping

GROWTH = 1.1
FIRST_EDGE_S = 0.5
BUCKETS = 100  # the last edge is 0.5 * 1.1**99, about 6,300 s; slower samples share the last bucket

Histogram = dict[str, int]  # bucket index (as a Firestore map key) -> samples


def upper_edge(index: int) -> float:
    return round(FIRST_EDGE_S * GROWTH**index, 3)


def bucket_of(seconds: float) -> int:
    if seconds <= FIRST_EDGE_S:
        return 0
    index = math.ceil(math.log(seconds / FIRST_EDGE_S, GROWTH) - 1e-9)
    return min(BUCKETS - 1, index)


def record(histogram: Mapping[str, int], seconds: float) -> Histogram:
    key = str(bucket_of(seconds))
    return {**histogram, key: histogram.get(key, 0) + 1}


def merge(histograms: Iterable[Mapping[str, int]]) -> Histogram:
    total: Histogram = {}
    for histogram in histograms:
        for key, count in histogram.items():
            total[key] = total.get(key, 0) + count
    return total


def count(histogram: Mapping[str, int]) -> int:
    return sum(histogram.values())


def percentile(histogram: Mapping[str, int], q: float) -> float | None:
    """The upper edge of the bucket holding the ``q``-th percentile sample (nearest rank)."""
    n = count(histogram)
    if n == 0:
        return None
    rank = max(1, math.ceil(q / 100 * n))
    seen = 0
    for index in sorted(int(key) for key in histogram):
        seen += histogram[str(index)]
        if seen >= rank:
            return upper_edge(index)
    return upper_edge(BUCKETS - 1)
