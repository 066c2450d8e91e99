"""How long Snakemake takes to plan a large study, and to find nothing to do after a run:
replikit's workflow against a plain Snakefile of the same shape, measured in one invocation.

Run from the repository root::

    PYTHONPATH=. python bench/bench_plan.py [--experiments 100] [--seeds 100] [--repeats 3]
        [--noop-experiments 10] [--noop-seeds 100] [--no-noop | --no-plan] [--keep DIR]

The synthetic study is what a user makes for a grid or seed sweep: ``replikit new``, a
trivial runner, E experiments x S seeds, one claim. The plain Snakefile has the same runs
as jobs of one rule written as a Snakemake user would (a params lambda, a log, a ``script:``
writing the metrics, as replikit's run rule runs a script) and one rule gathering them all.

*Plan*: ``snakemake -n`` of the E x S study on both sides, in turn (A B A B ...), the median
of ``--repeats`` runs each, and their ratio. *No-op*: a smaller study (the ``--noop-*``
sizes, 1,000 runs by default) is really run once on both sides, then ``snakemake`` is timed
again with nothing to do. Wall seconds of whole processes; the numbers depend on the machine
and its load and are never asserted anywhere.
"""

from __future__ import annotations

import argparse
import copy
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LINKED = ("Snakefile", "workflow", "envs")

RUNNER = '''\
"""A trivial runner: the work of a study is not what this benchmark measures."""


def run(ctx):
    return {"metrics": {"score": ctx.seed + ctx.params["offset"]}}
'''

PLAIN = '''\
EXPERIMENTS = [f"e{{i:03d}}" for i in range({experiments})]
SEEDS = range({seeds})


rule all:
    input:
        "results/summary.txt",


rule gather:
    input:
        expand("results/runs/{{experiment}}/seed={{seed}}/metrics.json",
               experiment=EXPERIMENTS, seed=SEEDS),
    output:
        "results/summary.txt",
    shell:
        "ls results/runs | wc -l > {{output}}"


rule run_experiment:
    output:
        "results/runs/{{experiment}}/seed={{seed}}/metrics.json",
    params:
        experiment=lambda wildcards: {{"name": wildcards.experiment,
                                      "offset": int(wildcards.experiment[1:])}},
    log:
        "logs/runs/{{experiment}}/seed={{seed}}.log",
    script:
        "run.py"
'''

PLAIN_SCRIPT = '''\
import json

with open(snakemake.output[0], "w") as out:
    json.dump({"score": int(snakemake.wildcards.seed) + snakemake.params.experiment["offset"]},
              out)
'''


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--noop-experiments", type=int, default=10)
    parser.add_argument("--noop-seeds", type=int, default=100)
    parser.add_argument("--no-noop", action="store_true", help="time the plan only")
    parser.add_argument("--no-plan", action="store_true", help="time the no-op only")
    parser.add_argument("--cores", type=int, default=2, help="--cores of the real runs")
    parser.add_argument("--keep", type=Path, help="build in this new folder and keep it")
    return parser.parse_args(argv)


def make_study(project: Path, name: str, experiments: int, seeds: int) -> None:
    """``replikit new``, then a trivial runner and E experiments of S seeds each."""
    project.mkdir(parents=True, exist_ok=True)
    for linked in LINKED:
        if not (project / linked).exists():
            (project / linked).symlink_to(ROOT / linked)
    subprocess.run([sys.executable, "-m", "replikit.cli", "--root", str(project), "new", name],
                   check=True, capture_output=True, env=environment(project))
    folder = project / "studies" / name
    (folder / "runner.py").write_text(RUNNER)
    manifest = yaml.safe_load((folder / "study.yaml").read_text())
    template = manifest["experiments"].pop("ours")
    manifest["experiments"] = {
        f"e{i:03d}": {**copy.deepcopy(template), "params": {"offset": i}, "seeds": seeds}
        for i in range(experiments)
    }
    manifest["claims"][0].update(metric="score", reported=float(seeds) / 2,
                                 tolerance={"absolute": 1.0}, levels={"re-implement": "e000"})
    (folder / "study.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))


def make_plain(folder: Path, experiments: int, seeds: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Snakefile").write_text(PLAIN.format(experiments=experiments, seeds=seeds))
    (folder / "run.py").write_text(PLAIN_SCRIPT)


def environment(project: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "REPLIKIT_CACHE": str(project / "cache")}


@dataclass(frozen=True)
class Timing:
    """Seconds of one ``snakemake`` process (and the jobs it started): wall and CPU."""

    wall: float
    cpu: float


def snakemake(folder: Path, *args: str) -> Timing:
    """Run ``snakemake`` in ``folder`` and time it; its output is dropped."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=folder,
                          env=environment(folder), capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed in {folder}:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def paired(ours: tuple[Path, list[str]], plain: tuple[Path, list[str]],
           repeats: int) -> tuple[Timing, Timing]:
    """Medians of ``repeats`` runs of each side, taken in turn, after one warm-up each."""
    times: dict[str, list[Timing]] = {"ours": [], "plain": []}
    for index in range(repeats + 1):
        for side, (folder, args) in (("ours", ours), ("plain", plain)):
            timing = snakemake(folder, *args)
            if index:
                times[side].append(timing)
    return tuple(Timing(statistics.median(t.wall for t in times[side]),  # type: ignore[return-value]
                        statistics.median(t.cpu for t in times[side]))
                 for side in ("ours", "plain"))


def report(what: str, jobs: int, ours: Timing, plain: Timing) -> None:
    print(f"{what} ({jobs:,} runs):\n"
          f"  wall: replikit {ours.wall:6.2f} s, plain Snakefile {plain.wall:6.2f} s, "
          f"ratio {ours.wall / plain.wall:4.2f}\n"
          f"  CPU:  replikit {ours.cpu:6.2f} s, plain Snakefile {plain.cpu:6.2f} s, "
          f"ratio {ours.cpu / plain.cpu:4.2f}", flush=True)


def bench_plan(work: Path, args: argparse.Namespace) -> None:
    make_study(work / "replikit", "synth", args.experiments, args.seeds)
    make_plain(work / "plain", args.experiments, args.seeds)
    ours, plain = paired((work / "replikit", ["-n", "--cores", "1", "study=synth"]),
                         (work / "plain", ["-n", "--cores", "1"]), args.repeats)
    report("plan, snakemake -n", args.experiments * args.seeds, ours, plain)


def bench_noop(work: Path, args: argparse.Namespace) -> None:
    project, plain = work / "replikit", work / "plain-noop"
    make_study(project, "synth-noop", args.noop_experiments, args.noop_seeds)
    make_plain(plain, args.noop_experiments, args.noop_seeds)
    ours_args = ["--cores", str(args.cores), "study=synth-noop", "formats=[html]", "mlrc=false"]
    plain_args = ["--cores", str(args.cores)]
    first_ours = snakemake(project, *ours_args)
    first_plain = snakemake(plain, *plain_args)
    jobs = args.noop_experiments * args.noop_seeds
    report("first run, snakemake", jobs, first_ours, first_plain)
    ours, plain_s = paired((project, ours_args), (plain, plain_args), args.repeats)
    report("no-op, snakemake after the first run", jobs, ours, plain_s)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"medians of {args.repeats} runs of each side, in turn, after one warm-up each; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}", flush=True)
    if args.keep and args.keep.exists():
        sys.exit(f"--keep {args.keep}: the folder exists; name a new one")
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        if not args.no_plan:
            bench_plan(work, args)
        if not args.no_noop:
            bench_noop(work, args)


if __name__ == "__main__":
    main()
