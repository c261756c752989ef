"""What the benchmarks share: timing one call."""
import time


def timed(fn):
    """Wall-clock seconds of one call of fn()."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
