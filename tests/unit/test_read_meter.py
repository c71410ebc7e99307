"""The read meter's tally is exact when a report asks from several threads at once."""

import sys
import threading

from functions.store.meter import ReadMeter


class _NothingStore:
    def get(self, path):
        return None


def test_reads_counted_from_eight_threads_at_once_are_all_counted():
    meter = ReadMeter(_NothingStore())
    threads = [threading.Thread(target=lambda: [meter.get("users/u") for _ in range(5_000)]) for _ in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can: an unguarded `+=` loses counts
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert (meter.reads, meter.round_trips) == (40_000, 40_000)
