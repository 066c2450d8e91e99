"""Running one experiment with one seed: the harness around a study's runner function.

A *runner* is a plain function in the study folder (``studies/<study>/<file>.py:<function>``)
that takes a :class:`RunContext` and returns a dict::

    {"metrics": {"rmse": 0.934, "mae": 0.737, "time_s": 6.1},   # the paper's quantities
     "folds":   [{"fold": 0, "rmse": ..., "mae": ...}, ...],      # optional per-fold values
     "extra":   {...}}                                            # optional, kept as is

The harness checks the experiment's artifacts first (a missing one gives a "not run" record
with the reason instead of an error), seeds Python, NumPy and torch, stops a runner that
runs past the experiment's ``resources.runtime`` (it then runs in a child process that is
killed if it ignores the stop; a "not run" record says so, see
:func:`replikit.run.measure.run_limited`), checks what the runner returns
(:mod:`replikit.run.checks`), measures wall time, CPU time (its own and its child
processes'), peak memory and, when the runner reports a CUDA ``device``, GPU time and
peak GPU memory, and writes ``metrics.json`` atomically.

A runner that finds it cannot run (no maintained package for a baseline, a private data
set) raises :class:`NotRunnable` with the reason: the record says "not run" with that reason
and the workflow goes on. The record also says what the seed controlled (``seeding``: which
generators were seeded and which the run drew from), how it was timed (``timing``: alone
or not, every repeat; :mod:`replikit.run.timing`) and how much of the machine processes not
of this workflow took meanwhile (``load``; such times are marked unreliable).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import importlib.util
import logging
import platform
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from replikit import paths
from replikit.errors import ReplikitError
from replikit.fileio import read_json, write_json
from replikit.run.checks import checked_result
from replikit.run.measure import (
    ChildEnded,
    TimeLimitExceeded,
    cuda_devices,
    gpu_peak_mb,
    reset_gpu_peak,
    run_limited,
)
from replikit.run.seeding import generator_states, seed_everything, seeding_record
from replikit.run.timing import TimingPlan, run_timed, timing_plan
from replikit.study import Experiment, Study
from replikit.vocabulary import ARTIFACT_UNAVAILABLE, NEEDS_GPU, NOT_RUNNABLE, TIME_LIMIT

log = logging.getLogger(__name__)

#: Where a study declares its budget profiles (a quick one for a first run).
PROFILES_GUIDE = "docs/writing-a-study.md, part 1, step 6 (Budget profiles)"


class ArtifactUnavailable(ReplikitError):
    """A runner asked for an artifact that could not be fetched."""


class NotRunnable(Exception):  # noqa: N818 -- the name says what the runner declares
    """Raised by a runner that cannot run here, with the reason: gives a "not run" record.

    >>> str(NotRunnable("no maintained package implements the GRU4Rec baseline"))
    'no maintained package implements the GRU4Rec baseline'
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class RunContext:
    """Everything a runner may use. Runners must take randomness only from ``seed``."""

    study: Study
    experiment_name: str
    experiment: Experiment
    seed: int
    artifacts: dict[str, dict[str, Any]]
    workdir: Path
    profile: str | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("replikit.runner"))

    @property
    def params(self) -> dict[str, Any]:
        """The experiment's params, with the chosen budget profile's overrides applied."""
        if self.profile is None:
            return dict(self.experiment.params)
        return self.study.experiment_params(self.experiment_name, self.profile)

    def artifact(self, name: str) -> Path:
        """Path of a fetched artifact (a file, or a folder for git and installed code)."""
        record = self.artifacts.get(name)
        if record is None:
            raise ReplikitError(
                f"experiment {self.experiment_name!r} uses artifact {name!r} "
                "without listing it under 'needs'",
                where=f"{self.study.dir / 'study.yaml'}: experiments.{self.experiment_name}.needs",
                fix=f"add {name!r} to the experiment's needs",
            )
        if record.get("status") != "ok":
            raise ArtifactUnavailable(f"artifact {name!r} is unavailable: {record.get('reason')}")
        return Path(record["path"])


def load_runner(study: Study, spec: str):
    """Resolve ``'<file>.py:<function>'`` (study folder) or ``'module:function'``."""
    target, _, func = spec.partition(":")
    if target.endswith(".py"):
        module = _module_from_file(study.dir, study.dir / target)
    else:
        module = importlib.import_module(target)
    runner = getattr(module, func, None)
    if not callable(runner):
        raise ReplikitError(
            f"runner function {func!r} not found", where=f"{target}",
            expected=f"a function named {func} taking a RunContext", found=str(sorted(
                n for n in dir(module) if not n.startswith("_"))),
        )
    return runner


def study_package_name(study_dir: Path) -> str:
    """The module name a study folder is imported under.

    Study names may hold ``-`` or ``.``, which module names may not, and a study's name must
    not collide with a module Python already knows (``surprise``, ``bert4rec``), hence the
    prefix.

    >>> study_package_name(Path("studies/my-study.v2"))
    'replikit_study_my_study_v2'
    """
    return "replikit_study_" + re.sub(r"\W", "_", Path(study_dir).name)


def import_study(study_dir: Path) -> ModuleType:
    """Import a study folder as a package, so its modules import each other relatively.

    The package comes from the folder itself (``spec_from_file_location`` with the folder as
    its search location), not from ``sys.path``: a study runs from wherever it lies. A folder
    without ``__init__.py`` is imported as a namespace package. When another folder was
    imported under the same name before, its modules are forgotten first.
    """
    study_dir = Path(study_dir).resolve()
    name = study_package_name(study_dir)
    loaded = sys.modules.get(name)
    if loaded is not None and list(getattr(loaded, "__path__", [])) == [str(study_dir)]:
        return loaded
    for stale in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[stale]
    init = study_dir / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(study_dir)])
    else:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(study_dir)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        if spec.loader is not None:
            spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[name]
        raise
    return package


def _module_from_file(study_dir: Path, path: Path) -> ModuleType:
    """The module of a runner file, imported as a module of its study's package."""
    if not path.exists():
        raise ReplikitError("runner file not found", where=str(path),
                            fix="check the experiment's 'runner' key")
    package = import_study(study_dir)
    relative = path.resolve().relative_to(Path(study_dir).resolve()).with_suffix("")
    return importlib.import_module(".".join((package.__name__, *relative.parts)))


def cause(kind: str, name: str, detail: str) -> dict[str, str]:
    """Why a run could not run, as data the ledger and the report count by ``kind``."""
    return {"kind": kind, "name": name, "detail": detail}


def missing_artifacts(exp: Experiment, artifacts: dict[str, dict[str, Any]]
                      ) -> list[dict[str, str]]:
    """One ``artifact-unavailable`` cause per needed artifact that is not available."""
    causes = []
    for name in exp.needs:
        record = artifacts.get(name, {"status": "unavailable", "reason": "not fetched"})
        if record.get("status") != "ok":
            causes.append(cause(ARTIFACT_UNAVAILABLE, name, str(record.get("reason"))))
    return causes


def put_code_on_path(exp: Experiment, artifacts: dict[str, dict[str, Any]]) -> None:
    """Put the installed code artifacts the experiment needs first on the import path."""
    for name in reversed(exp.needs):
        folder = artifacts.get(name, {}).get("import_path")
        if folder and folder not in sys.path:
            sys.path.insert(0, folder)


def missing_hardware(exp: Experiment) -> list[dict[str, str]]:
    """A ``needs-gpu`` cause when the experiment declares GPUs and this machine has fewer."""
    if exp.resources.gpus == 0:
        return []
    found = cuda_devices()
    if found >= exp.resources.gpus:
        return []
    return [cause(NEEDS_GPU, f"{exp.resources.gpus} GPU(s)",
                  f"{found} available on this machine")]


def cause_text(item: dict[str, str]) -> str:
    """The cause as the run record's one-line reason says it."""
    if item["kind"] == ARTIFACT_UNAVAILABLE:
        return f"artifact {item['name']!r} unavailable: {item['detail']}"
    if item["kind"] == NEEDS_GPU:
        return f"needs {item['name']} (declared in its resources); {item['detail']}"
    if item["kind"] == TIME_LIMIT:
        return f"stopped after its time limit of {item['name']}: {item['detail']}"
    return item["detail"]


def execute(
    study: Study,
    experiment_name: str,
    seed: int,
    artifact_records: list[str | Path],
    output: str | Path,
    profile: str | None = None,
    time_limit_s: float | None = None,
) -> dict[str, Any]:
    """Run one experiment with one seed and write its record to ``output`` atomically.

    ``time_limit_s`` defaults to the experiment's ``resources.runtime`` (minutes).
    """
    exp = study.experiments[experiment_name]
    artifacts = {}
    for path in artifact_records:
        record = read_json(path)
        artifacts[record["name"]] = record
    output = Path(output)
    record: dict[str, Any] = {
        "study": study.name, "experiment": experiment_name, "seed": seed,
        "implementation": exp.implementation, "runner": exp.runner, "profile": profile,
        "params": study.experiment_params(experiment_name, profile),
        "host": platform.node(), "python": platform.python_version(),
    }
    causes = missing_artifacts(exp, artifacts) + missing_hardware(exp)
    if causes:
        record.update(status="not-run", reason="; ".join(cause_text(c) for c in causes),
                      causes=causes, metrics={})
        write_json(output, record)
        return record
    context = RunContext(study, experiment_name, exp, seed, artifacts, output.parent, profile)
    put_code_on_path(exp, artifacts)
    runner = load_runner(study, exp.runner)
    plan = timing_plan(study, experiment_name)
    if time_limit_s is None and exp.resources.runtime:
        # resources.runtime bounds one call of the runner; a timed experiment makes
        # warm-up and repeat calls (replikit.run.timing), each given that time.
        time_limit_s = exp.resources.runtime * 60 * plan.calls
    started = time.perf_counter()
    try:
        measured = run_limited(lambda: measured_run(runner, context, plan), time_limit_s)
    except NotRunnable as exc:
        return _not_runnable(record, experiment_name, exc.reason, output)
    except TimeLimitExceeded:
        return _stopped(record, context, time_limit_s, time.perf_counter() - started, output)
    except ChildEnded as exc:
        raise runner_left(study, exp.runner, f"its process ended ({exc.status})") from None
    record.update(measured)
    write_json(output, record)
    return record


def measured_run(runner, context: RunContext, plan: TimingPlan) -> dict[str, Any]:
    """Seed, call the runner, check its result, and measure what the run cost.

    Runs where the runner runs (a child process under a time limit), so its CPU time, peak
    memory and GPU memory are the run's own.
    """
    exp, params = context.experiment, context.params
    seeded = seed_everything(context.seed)
    states = generator_states()
    reset_gpu_peak()
    threads = int(params.get("threads") or exp.resources.threads)
    # One call, or warm-up and repeats for a timed experiment (replikit.run.timing); the
    # time limit bounds all of them together (run_limited, in execute).
    timed = run_timed(lambda: call_runner(runner, context), plan,
                      reseed=lambda: seed_everything(context.seed), limit_s=None,
                      cpus_used=threads)
    wall = timed.wall_s
    result = checked_result(timed.result, exp.runner, context.experiment_name, context.seed)
    metrics = {**result.get("metrics", {}), **timed.time_metrics}
    device = result.get("device", "cpu")
    gpu_used = str(device).startswith("cuda")
    return dict(
        status="ok", reason="", metrics=metrics, folds=result.get("folds", []),
        extra=result.get("extra", {}), wall_s=wall, cpu_s=timed.cpu_s,
        children_cpu_s=timed.children_cpu_s,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        device=device,
        # The run holds its GPU for its whole wall time: that is what GPU-hours count.
        gpu_s=wall if gpu_used else 0.0,
        peak_gpu_mb=gpu_peak_mb() if gpu_used else None,
        seeding=seeding_record(seeded, states),
        load=timed.load, timing=timed.timing,
    )


def call_runner(runner, context: RunContext) -> Any:
    """The runner's result; a runner that calls ``sys.exit()`` is named with what it did."""
    try:
        return runner(context)
    except SystemExit as exc:
        raise runner_left(context.study, context.experiment.runner,
                          f"it called sys.exit({exc.code!r})") from None


def runner_left(study: Study, spec: str, what: str) -> ReplikitError:
    """The error for a runner that ended its run without returning a result."""
    target, _, func = spec.partition(":")
    where = study.dir / target if target.endswith(".py") else Path(target)
    return ReplikitError(
        f"the runner {spec} exited without returning a result",
        where=f"{paths.project_relative(where, str(where))}: {func}()",
        expected="the runner returns a dict such as {'metrics': {...}}",
        found=what,
        fix=f"make {func}() return its result instead of exiting; raise "
            "replikit.run.harness.NotRunnable(reason) when it cannot run here",
    )


def _stopped(record: dict[str, Any], context: RunContext, limit_s: float, ran_s: float,
             output: Path) -> dict[str, Any]:
    """The record of a run stopped at its time limit; the reason says which limit, the time
    of each seed so far, and where a quicker profile is declared."""
    name = context.experiment_name
    manifest = paths.project_relative(context.study.dir / "study.yaml", "study.yaml")
    times = seed_times(output, context.seed, ran_s)
    stopped = cause(
        TIME_LIMIT, f"{limit_s / 60:g} min" if limit_s % 60 == 0 else f"{limit_s:g} s",
        f"resources.runtime of experiment {name!r} in {manifest}; time per seed so far: "
        f"{times}; fix: declare a quick profile that gives {name!r} smaller params "
        f"(profiles: {{quick: {{default: true, params: {{{name}: {{...}}}}}}}} in {manifest}; "
        f"see {PROFILES_GUIDE}), or raise resources.runtime")
    record.update(status="not-run", reason=cause_text(stopped), causes=[stopped],
                  metrics={}, wall_s=ran_s)
    write_json(output, record)
    print(f"replikit: experiment {name!r} seed {context.seed}: {record['reason']}",
          file=sys.__stderr__, flush=True)
    return record


def seed_times(output: Path, seed: int, ran_s: float) -> str:
    """``seed 0: 61 s (stopped), seed 1: 12 s``: the wall time each seed of the experiment
    took so far, from its sibling run records (this seed's own time as it was stopped)."""
    times = {seed: f"{ran_s:.0f} s (stopped)"}
    for path in output.parent.parent.glob(f"*/{output.name}"):
        with contextlib.suppress(ReplikitError, ValueError, OSError):
            other = read_json(path)
            stopped = " (stopped)" if other.get("status") != "ok" else ""
            if "wall_s" in other and int(other.get("seed", -1)) != seed:
                times[int(other["seed"])] = f"{float(other['wall_s']):.0f} s{stopped}"
    return ", ".join(f"seed {s}: {times[s]}" for s in sorted(times))


def _not_runnable(record: dict[str, Any], experiment: str, reason: str,
                  output: Path) -> dict[str, Any]:
    """The record of a run whose runner declared it cannot run."""
    causes = [cause(NOT_RUNNABLE, experiment, reason)]
    record.update(status="not-run", reason=f"the runner cannot run it: {reason}",
                  causes=causes, metrics={})
    write_json(output, record)
    return record
