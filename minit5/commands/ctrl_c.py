"""Ctrl-C for the commands that train (a helper, not a sub-command).

The trainer installs no signal handler (a library should not: it would fail off the main
thread and take the signal from whoever embeds it). The command line does, around the run:
the first Ctrl-C sets a stop flag the trainer checks after every step (it finishes the step,
saves a checkpoint and returns "interrupted"); a second Ctrl-C stops at once. Checkpoints are
written atomically, so nothing half-written is left either way.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import threading


@contextlib.contextmanager
def stop_on_ctrl_c():
    """Yield a threading.Event for `Trainer(stop=...)` that the first Ctrl-C sets.

    The previous SIGINT handler is restored when the block ends. Enter it on the main thread:
    Python runs signal handlers there only.
    """
    stop = threading.Event()

    def on_sigint(signum, frame):
        if stop.is_set():                      # second Ctrl-C: stop now
            raise KeyboardInterrupt
        stop.set()
        print("\nCtrl-C: finishing this step and saving a checkpoint (Ctrl-C again to abort)",
              file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
