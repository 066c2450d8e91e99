"""How loaded the machine was when a run was timed: its record's ``load``.

A time measured while other processes compete for the CPUs says as much about them as about
the method. :func:`machine_load` records the load average, the other busy processes and the
CPUs the run used, and calls the timing unreliable, with the reason, when the machine was
oversubscribed.
"""

from __future__ import annotations

import os
import time
from typing import Any

import psutil

BUSY_PERCENT = 50.0   # a process using half a CPU or more competes with the run
SAMPLE_S = 0.3        # how long the other processes' CPU use is sampled
SHOWN = 5             # busy processes named in the record


def available_cpus() -> int:
    """CPUs this process may run on (its affinity), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def busy_processes(sample_s: float = SAMPLE_S, exclude: set[int] | None = None
                   ) -> list[dict[str, Any]]:
    """Other processes using at least :data:`BUSY_PERCENT` of a CPU over ``sample_s``."""
    exclude = exclude or {os.getpid()}
    procs = []
    for proc in psutil.process_iter(["pid", "name"]):
        if proc.info["pid"] in exclude:
            continue
        try:
            proc.cpu_percent(None)   # the first call starts the interval
            procs.append(proc)
        except psutil.Error:
            continue
    time.sleep(sample_s)
    busy = []
    for proc in procs:
        try:
            percent = proc.cpu_percent(None)
        except psutil.Error:
            continue
        if percent >= BUSY_PERCENT:
            busy.append({"pid": proc.info["pid"], "name": proc.info["name"],
                         "cpu_percent": round(percent, 1)})
    return sorted(busy, key=lambda p: -p["cpu_percent"])


def judge_load(load_1min: float, cpus: int, cpus_used: int,
               busy: list[dict[str, Any]]) -> tuple[bool, str]:
    """Unreliable when the 1-minute load exceeds the CPUs, or the other busy processes
    take more CPUs than the run left free.

    >>> judge_load(0.8, 4, 1, [])
    (False, '')
    >>> judge_load(12.7, 2, 1, [])
    (True, '1-minute load average 12.7 on 2 CPUs')
    """
    reasons = []
    if load_1min > cpus:
        reasons.append(f"1-minute load average {load_1min:.1f} on {cpus} CPUs")
    others = sum(p["cpu_percent"] for p in busy) / 100.0
    if others > max(cpus - cpus_used, 0):
        reasons.append(f"{len(busy)} other busy process(es) used {others:.1f} CPUs while the "
                       f"run used {cpus_used} of {cpus}")
    return bool(reasons), "; ".join(reasons)


def machine_load(cpus_used: int = 1, sample_s: float = SAMPLE_S) -> dict[str, Any]:
    """The ``load`` part of a run record, taken right after the run."""
    cpus = available_cpus()
    load = os.getloadavg()
    busy = busy_processes(sample_s)
    unreliable, reason = judge_load(load[0], cpus, cpus_used, busy)
    return {"load_average": [round(v, 2) for v in load], "cpus": cpus,
            "cpus_used": cpus_used, "busy_processes": busy[:SHOWN],
            "busy_count": len(busy), "unreliable": unreliable, "reason": reason}
