"""What a run costs and how long it may take: CPU of child processes, GPUs, the time limit.

GPUs are counted without importing a framework (``nvidia-smi``, the same source as the
environment record), so the core package never imports torch; a study that imported torch
has its CUDA memory measured through it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import resource
import signal
import sys
import threading
from collections.abc import Iterator

from replikit.environment import gpus

#: Seconds past the limit after which a runner stuck in C code (deaf to the alarm) is ended
#: by faulthandler, which dumps every thread's stack to stderr (the job's log) and exits.
HARD_STOP_GRACE_S = 60


class TimeLimitExceeded(Exception):
    """Raised inside a runner when it runs past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the runner after ``seconds`` (SIGALRM).

    Snakemake does not enforce ``resources.runtime`` on a local run, so the harness does.
    A runner inside C code that never returns to Python is ended ``HARD_STOP_GRACE_S``
    later by faulthandler (the job then fails, with every thread's stack in its log).
    Only the main thread can take signals; elsewhere no limit applies.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds + HARD_STOP_GRACE_S, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


def children_cpu_s() -> float:
    """CPU seconds (user + system) of the waited-for child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cuda():
    """torch.cuda when the study imported torch and a CUDA device exists, else None."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return torch.cuda


def reset_gpu_peak() -> None:
    cuda = _cuda()
    if cuda is not None and cuda.is_initialized():
        cuda.reset_peak_memory_stats()


def gpu_peak_mb() -> float | None:
    """Peak GPU memory the run's tensors held, in MiB; None when no CUDA device was used."""
    cuda = _cuda()
    if cuda is None or not cuda.is_initialized():
        return None
    return cuda.max_memory_allocated() / 2**20


def cuda_devices() -> int:
    """CUDA devices this process may use: the GPUs present, within CUDA_VISIBLE_DEVICES."""
    found = len(gpus())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return found
    chosen = [d for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    return min(found, len(chosen))
