"""The environment a study actually ran in, next to the one the paper declares.

:func:`capture` reads software and hardware facts from this machine (never from the
manifest); :func:`compare` lines them up against ``hardware.declared`` so the report can say
plainly whether, e.g., time claims are comparable.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from replikit.study import HardwareSpec


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, falling back to ``platform``."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_gb() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return round(psutil.virtual_memory().total / 2**30, 1)


def usable_cores() -> int:
    """Cores this process may use (respects affinity masks, unlike os.cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def gpus() -> list[str]:
    """GPU names from nvidia-smi; none where it is absent (no framework is imported)."""
    if not shutil.which("nvidia-smi"):
        return []
    out = _run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
    return [line.strip() for line in (out or "").splitlines() if line.strip()]


def torch_facts() -> dict[str, Any]:
    """torch's version and build (``+cpu``, ``+cu121``) from its metadata, without importing it."""
    try:
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return {}
    build = version.partition("+")[2]
    return {"version": version, "build": build or "default",
            "cuda_available": bool(gpus()) and not build.startswith("cpu")}


def packages() -> dict[str, str]:
    """Every installed distribution and its version, sorted by name."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower()] = dist.version
    return dict(sorted(found.items()))


def git_state(repo: str | Path = ".") -> dict[str, Any]:
    """The project's commit and whether the working tree differs from it."""
    commit = _run(["git", "-C", str(repo), "rev-parse", "HEAD"])
    if not commit:
        return {"commit": None, "dirty": None}
    status = _run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"])
    return {"commit": commit.strip(), "dirty": bool(status and status.strip())}


def _run(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def capture(repo: str | Path = ".") -> dict[str, Any]:
    """Facts about this machine and its software, as written to ``results/<study>/env.json``."""
    gpu_names = gpus()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "hardware": {
            "cpu": cpu_model(),
            "cores": usable_cores(),
            "memory_gb": memory_gb(),
            "gpu": ", ".join(gpu_names) if gpu_names else None,
            "gpus": len(gpu_names),
        },
        "torch": torch_facts(),
        "quarto": shutil.which("quarto") is not None,
        "git": git_state(repo),
        "packages": packages(),
    }


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _cpu_matches(declared: str, actual: str) -> bool:
    """Loose match: every word of the declared CPU appears in the actual model name.

    Papers state CPUs loosely ('intel i5 11th Gen 2.60GHz'), so an exact string match would
    always fail; requiring every declared word to appear keeps the test honest without that.
    """
    return set(_norm(declared).split()) <= set(_norm(actual).split())


def compare(declared: HardwareSpec, actual: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of (item, declared, actual, match); match is None where the paper is silent."""
    hw = actual["hardware"]
    rows = [
        ("CPU", declared.cpu, hw["cpu"],
         None if not declared.cpu else _cpu_matches(declared.cpu, hw["cpu"])),
        ("CPU cores", declared.cores, hw["cores"],
         None if declared.cores is None else declared.cores == hw["cores"]),
        ("Memory (GB)", declared.memory_gb, hw["memory_gb"],
         None if declared.memory_gb is None
         else abs(declared.memory_gb - (hw["memory_gb"] or 0)) <= 0.1 * declared.memory_gb),
        ("GPU", declared.gpu, hw["gpu"],
         None if not declared.gpu else bool(hw["gpu"]) and _cpu_matches(declared.gpu, hw["gpu"])),
        ("GPUs", declared.gpus, hw["gpus"], declared.gpus == hw["gpus"]),
        ("OS", declared.os, actual["os"],
         None if not declared.os else _norm(declared.os) in _norm(actual["os"])),
    ]
    return [{"item": i, "declared": d, "actual": a, "match": m} for i, d, a, m in rows]


def timing_comparable(rows: list[dict[str, Any]]) -> bool:
    """Times compare only when the paper states its processor and every stated item matches."""
    stated = [r for r in rows if r["match"] is not None]
    cpu_stated = any(r["item"] == "CPU" and r["match"] is not None for r in rows)
    return cpu_stated and all(r["match"] for r in stated)


def hardware_note(rows: list[dict[str, Any]]) -> str:
    """Why timings are not comparable, in words ('' when they are)."""
    if timing_comparable(rows):
        return ""
    if not any(r["item"] == "CPU" and r["match"] is not None for r in rows):
        return "the paper does not state its processor"
    return "; ".join(
        f"{r['item']}: {r['actual']} here, {r['declared']} declared"
        for r in rows if r["match"] is False
    )
