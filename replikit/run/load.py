"""How much of the machine others took while a run was timed: its record's ``load``.

A time measured while other processes compete for the CPUs says as much about them as about
the method. The load average cannot tell them apart from the workflow itself (two jobs of
ours on a 2-core machine make a load of 2), so the record measures the CPU time used during
the run by everything *not of this workflow*: the machine's busy CPU time less that of this
workflow's processes (the outermost ``snakemake`` process above this one, every process
below it, and its own ancestors; without Snakemake, this process and its children); see
:func:`others_cpu_s`. The timing is unreliable, with the reason and by how much, when the
others used more CPUs than the run left free (:func:`judge_load`), by more than the CPU
counters can resolve: the kernel counts CPU time in clock ticks (10 ms), so over a span of a
few milliseconds "others used 2.7 CPUs" is a rounding, not a measurement
(:func:`resolution_cpus`). The load average is kept as information.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BUSY_PERCENT = 50.0   # a process using half a CPU or more competes with the run
NOISE_CPUS = 0.1      # other CPU use below this (daemons, the sampling itself) is no load
SHOWN = 5             # busy processes named in the record

#: pid -> (start time, CPU seconds so far, name): what a snapshot knows of a process.
Processes = dict[int, tuple[float, float, str]]


@dataclass(frozen=True)
class Snapshot:
    """Every process's CPU seconds so far, and the whole machine's busy CPU seconds."""

    procs: Processes
    busy_s: float


def available_cpus() -> int:
    """CPUs this process may run on (its affinity), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _runs_snakemake(proc: psutil.Process) -> bool:
    """``snakemake ...``, ``python -m snakemake ...`` or a shell line that starts it."""
    try:
        args = proc.cmdline()[:3]
    except psutil.Error:
        return False
    return any("snakemake" in Path(arg.split(" ")[0]).name for arg in args)


def workflow_root(proc: psutil.Process | None = None) -> psutil.Process:
    """The outermost Snakemake process above ``proc`` (default: this one), else ``proc``."""
    proc = proc or psutil.Process()
    root = proc
    for parent in proc.parents():
        if _runs_snakemake(parent):
            root = parent
    return root


def our_pids() -> set[int]:
    """The workflow's processes: its root, everything below it, and the root's ancestors."""
    root = workflow_root()
    pids = {root.pid, os.getpid()}
    try:
        pids.update(p.pid for p in root.children(recursive=True))
        pids.update(p.pid for p in root.parents())
    except psutil.Error:
        pass
    return pids


def machine_busy_s() -> float:
    """CPU seconds the machine's CPUs have been busy since boot, time stolen by other virtual
    machines included (guest time is already inside user time on Linux)."""
    t = psutil.cpu_times()
    return sum(getattr(t, k, 0.0) for k in ("user", "nice", "system", "irq", "softirq", "steal"))


def snapshot() -> Snapshot:
    """The CPU seconds every visible process, and the machine, has used so far."""
    taken: Processes = {}
    for proc in psutil.process_iter(["pid", "name", "create_time", "cpu_times"]):
        times = proc.info["cpu_times"]
        if times is None or proc.info["create_time"] is None:
            continue
        taken[proc.info["pid"]] = (proc.info["create_time"], times.user + times.system,
                                   proc.info["name"] or "?")
    return Snapshot(taken, machine_busy_s())


def cpu_between(before: Processes, after: Processes, exclude: set[int] | None = None,
                only: set[int] | None = None) -> dict[int, float]:
    """CPU seconds each process (outside ``exclude``, or in ``only``) used between two
    snapshots. A process started in between counts whole; one that ended in between is not
    seen.

    >>> cpu_between({1: (0.0, 5.0, "a")}, {1: (0.0, 7.5, "a"), 2: (9.0, 1.0, "b")})
    {1: 2.5, 2: 1.0}
    """
    used = {}
    for pid, (started, cpu, _) in after.items():
        if pid in (exclude or ()) or (only is not None and pid not in only):
            continue
        earlier = before.get(pid)
        base = earlier[1] if earlier is not None and earlier[0] == started else 0.0
        if cpu - base > 0:
            used[pid] = cpu - base
    return used


def resolution_cpus(counters: int, spans: int, wall_s: float) -> float:
    """How far off, in CPUs, others' use over ``wall_s`` can be from counter rounding alone.

    Each CPU-time counter read (every CPU of the machine, each of our processes) is rounded
    to a clock tick, at each of the ``spans`` ends.

    >>> round(resolution_cpus(10, 1, 0.01), 1)  # 10 ms timed: no judgement possible
    10.0
    >>> round(resolution_cpus(10, 5, 50.0), 3)
    0.01
    """
    tick = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
    return counters * spans * tick / max(wall_s, 1e-9)


def judge_load(others_cpus: float, cpus: int, cpus_used: int,
               resolution: float = 0.0) -> tuple[bool, str]:
    """Unreliable when processes not of this workflow used more CPUs than the run left free,
    beyond the counters' ``resolution`` (:func:`resolution_cpus`).

    >>> judge_load(0.05, 2, 2)
    (False, '')
    >>> judge_load(1.7, 2, 1)[1]  # doctest: +ELLIPSIS
    'processes not of this workflow used 1.7 CPUs on average while it was timed; the run...'
    >>> judge_load(2.7, 2, 1, resolution=4.0)
    (False, '')
    """
    free = max(cpus - cpus_used, 0)
    if others_cpus <= free + NOISE_CPUS + resolution:
        return False, ""
    return True, (f"processes not of this workflow used {others_cpus:.1f} CPUs on average while "
                  f"it was timed; the run used {cpus_used} of {cpus} CPUs, leaving {free} free")


def others_cpu_s(before: Snapshot, after: Snapshot, ours: set[int], ours_gone_s: float
                 ) -> float:
    """CPU seconds that processes not of this workflow used between two snapshots.

    The machine's busy time less ours: this counts others that came and went between the
    snapshots, and processes this one cannot see (another container, another virtual
    machine's stolen time). ``ours_gone_s`` is what our own processes that ended in between
    used (the runner's waited-for children).
    """
    ours_s = sum(cpu_between(before.procs, after.procs, only=ours).values()) + ours_gone_s
    return max(after.busy_s - before.busy_s - ours_s, 0.0)


@dataclass
class LoadWindow:
    """Other processes' CPU use over one or more timed spans (one snapshot between spans)."""

    snapshots: list[Snapshot] = field(default_factory=list)
    marks: list[float] = field(default_factory=list)
    gone: list[float] = field(default_factory=list)

    def mark(self, ours_gone_s: float = 0.0) -> None:
        """Close the span so far (the first call opens the first span); ``ours_gone_s``: CPU
        seconds our processes that ended during the span used."""
        self.snapshots.append(snapshot())
        self.marks.append(time.perf_counter())
        self.gone.append(ours_gone_s)

    def record(self, cpus_used: int) -> dict[str, Any]:
        """The ``load`` part of a run record: others' CPUs per span and over the window."""
        ours, cpus = our_pids(), available_cpus()
        seconds = [others_cpu_s(self.snapshots[i - 1], self.snapshots[i], ours, self.gone[i])
                   for i in range(1, len(self.snapshots))]
        walls = [max(self.marks[i] - self.marks[i - 1], 1e-9) for i in range(1, len(self.marks))]
        others = sum(seconds) / sum(walls)
        used = cpu_between(self.snapshots[0].procs, self.snapshots[-1].procs, exclude=ours)
        names, wall = self.snapshots[-1].procs, sum(walls)
        busy = sorted(({"pid": pid, "name": names[pid][2],
                        "cpu_percent": round(100.0 * cpu / wall, 1)}
                       for pid, cpu in used.items() if 100.0 * cpu / wall >= BUSY_PERCENT),
                      key=lambda p: -p["cpu_percent"])
        counters = psutil.cpu_count() + len(ours & set(names))
        resolution = resolution_cpus(counters, len(seconds), wall)
        unreliable, reason = judge_load(others, cpus, cpus_used, resolution)
        return {"others_cpus": round(others, 3), "resolution_cpus": round(resolution, 3),
                "others_cpus_per_span": [round(s / w, 3) for s, w in zip(seconds, walls,
                                                                         strict=True)],
                "load_average": [round(v, 2) for v in os.getloadavg()], "cpus": cpus,
                "cpus_used": cpus_used, "busy_processes": busy[:SHOWN],
                "busy_count": len(busy), "unreliable": unreliable, "reason": reason}
