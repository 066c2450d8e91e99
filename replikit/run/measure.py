"""What a run costs and how long it may take: CPU of child processes, GPUs, the time limit.

GPUs are counted without importing a framework (``nvidia-smi``, the same source as the
environment record), so the core package never imports torch; a study that imported torch
has its CUDA memory measured through it.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import pickle
import resource
import select
import signal
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from replikit.environment import gpus

T = TypeVar("T")

_LENGTH = struct.Struct("!Q")  # the length of the outcome the child sends before it

#: Seconds a runner has, once told to stop at its limit, to unwind (close files, end worker
#: processes) before its process is killed.
HARD_STOP_GRACE_S = 5


class TimeLimitExceeded(Exception):
    """Raised inside a runner when it runs past its time limit."""


class ChildEnded(Exception):
    """The child process ended without sending a result (``os._exit``, a crash, a kill)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the runner after ``seconds`` (SIGALRM).

    The polite stop: a runner in Python code unwinds. One that ignores the signal or sits in
    C code is ended by :func:`run_limited`, which runs it in a child process. Only the main
    thread can take signals; elsewhere no alarm is set.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_limited(call: Callable[[], T], seconds: float | None,
                grace_s: float = HARD_STOP_GRACE_S) -> T:
    """``call()`` in a forked child process that is killed ``grace_s`` after ``seconds``.

    Snakemake does not enforce ``resources.runtime`` on a local run, so the harness does.
    The child first gets the polite stop (:func:`time_limit`); a runner that ignores it
    (catches the exception, blocks SIGALRM, sits in C code) is killed with its own child
    processes (its process group) and :class:`TimeLimitExceeded` is raised here. What
    ``call`` returns or raises comes back through a pipe (pickled); a child that ends
    without sending anything raises :class:`ChildEnded`. Without a limit, ``call`` runs
    here, in this process.
    """
    if not seconds:
        return call()
    reader, writer = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: run, send, and leave without the parent's exit handlers
        os.close(reader)
        os.setpgid(0, 0)
        _end_with(os.getppid())
        # Where a runner deaf to the stop sits, in the job's log, just before the kill.
        faulthandler.dump_traceback_later(seconds + grace_s / 2, file=sys.stderr)
        _send(writer, _outcome(call, seconds))
        os._exit(0)
    os.close(writer)
    with contextlib.suppress(OSError):  # also here, so a kill never misses the group
        os.setpgid(pid, pid)
    try:
        data = _receive(reader, time.monotonic() + seconds + grace_s)
    finally:
        os.close(reader)
        status = _end(pid)
    if data is None:
        raise TimeLimitExceeded
    if not data:
        raise ChildEnded(status)
    kind, value = pickle.loads(data)
    if kind == "raised":
        raise value
    return value


def _end_with(parent: int) -> None:
    """Kill this process group when the parent is gone (killed with SIGKILL, say): a child in
    a group of its own gets neither Ctrl-C nor the signal that ended its parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="replikit-end-with-parent", daemon=True).start()


def _outcome(call: Callable[[], Any], seconds: float) -> tuple[str, Any]:
    try:
        with time_limit(seconds):
            return "returned", call()
    except BaseException as exc:  # noqa: BLE001 -- every outcome goes back to the parent
        exc.add_note("".join(traceback.format_exception(exc)).rstrip())
        return "raised", exc
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _send(writer: int, outcome: tuple[str, Any]) -> None:
    """The pickled outcome, after its length: the parent stops reading at its end, even
    while a grandchild (a data loader's worker) still holds the pipe open."""
    try:
        data = pickle.dumps(outcome)
    except Exception:  # noqa: BLE001 -- an unpicklable value or exception: send its text
        kind, value = outcome
        text = f"{type(value).__name__}: {value}"
        data = pickle.dumps(("raised", RuntimeError(f"the runner's {kind} value could not be "
                                                    f"passed back: {text}")))
    with os.fdopen(writer, "wb") as pipe:
        pipe.write(_LENGTH.pack(len(data)) + data)


def _receive(reader: int, deadline: float) -> bytes | None:
    """The outcome the child sends; b"" when it ends without sending it all, None when the
    deadline passes first."""
    received = b""
    while not _whole(received):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([reader], [], [], left)[0]:
            return None
        chunk = os.read(reader, 1 << 16)
        if not chunk:
            return b""
        received += chunk
    return received[_LENGTH.size:]


def _whole(received: bytes) -> bool:
    """Whether ``received`` holds the length and as many bytes as it says."""
    if len(received) < _LENGTH.size:
        return False
    return len(received) >= _LENGTH.size + _LENGTH.unpack(received[:_LENGTH.size])[0]


def _end(pid: int) -> str:
    """Kill the child's process group if still there, reap the child; how it ended."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


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
