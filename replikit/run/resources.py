"""What one run of an experiment asks of a machine, as Snakemake ``resources:``.

The same workflow runs on a laptop and on a SLURM cluster (through
``snakemake-executor-plugin-slurm``); only the profile differs. What a run needs comes from
the study manifest, what a cluster calls its partitions comes from the site:

``studies/<study>/study.yaml`` (travels with the study)
    ``experiments.<name>.resources``: ``gpus``, ``mem_mb``, ``runtime`` (minutes),
    ``threads``. Where an experiment that re-runs the *original* code does not state
    ``gpus``, the GPUs of the paper's declared hardware (``hardware.declared.gpus``) are
    requested: the original code was written for that machine.

workflow config key ``slurm`` (belongs to the site, e.g. ``profiles/slurm/site.yaml``)
    ``partition`` and ``extra`` for every run, ``gpu_partition`` and ``gpu_extra`` for runs
    that need a GPU (they fall back to the former).

Snakemake names the result: ``gpu`` (the plugin turns it into ``--gpus=N``), ``mem_mb``
(``--mem``), ``runtime`` (``-t``, minutes), ``slurm_partition`` (``-p``) and
``slurm_extra`` (appended to ``sbatch``). Threads stay Snakemake's ``threads:``, which the
plugin passes as ``--cpus-per-task``. A *timed* experiment (:mod:`replikit.run.timing`) runs
alone: on one machine its job takes every core Snakemake has (:func:`rule_threads`), so the
scheduler starts no other job beside it; on SLURM it asks for an exclusive node
(``--exclusive`` in ``slurm_extra``), and its ``runtime`` covers the warm-up and every repeat.
A resource callable must always return a value, so a
need the manifest leaves open gets a light default (:data:`RUN_DEFAULTS`), and an unset
partition is the empty string, which the plugin leaves out of ``sbatch`` (the cluster's
default partition is used).

A study of E experiments x S seeds has E x S run jobs, and Snakemake evaluates every
callable resource of every job, at a cost well above the value's: the run rule declares
callables (:func:`run_rule_resources`) that read values computed once per experiment, and the
workflow turns those that every experiment of the planned study asks alike (:func:`alike`,
most often all of them) into constants when the plan begins
(:func:`replikit.workflow.settle_resources`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from replikit.errors import ReplikitError
from replikit.run.timing import timing_plan
from replikit.study import Experiment, Study

#: What a run gets when its experiment states nothing: one CPU-sized job (2 GiB, 1 hour).
RUN_DEFAULTS: dict[str, int] = {"mem_mb": 2048, "runtime": 60}

#: What a timed run asks of SLURM: a node no other job shares.
EXCLUSIVE = "--exclusive"

#: The resource names :func:`rule_resources` returns, in the order rules list them.
RESOURCE_KEYS = ("gpu", "mem_mb", "runtime", "slurm_partition", "slurm_extra")


class SlurmSite(BaseModel):
    """The site's SLURM settings: the workflow config's ``slurm`` mapping.

    Every key is optional; an empty mapping means "the cluster's defaults".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    partition: str | None = Field(None, description="Partition for every run job")
    gpu_partition: str | None = Field(
        None, description="Partition for jobs that need a GPU (default: partition)"
    )
    extra: str | None = Field(None, description="Extra sbatch flags for every run job")
    gpu_extra: str | None = Field(
        None, description="Extra sbatch flags for GPU jobs (default: extra)"
    )


def slurm_site(config: Mapping[str, Any] | None) -> SlurmSite:
    """Read the ``slurm`` mapping of the workflow config.

    Parameters
    ----------
    config
        Snakemake's ``config`` (or any mapping); a missing ``slurm`` key means no settings.

    Raises
    ------
    ReplikitError
        When ``slurm`` is not a mapping of the known keys.

    Examples
    --------
    >>> slurm_site({"slurm": {"gpu_partition": "gpu"}}).gpu_partition
    'gpu'
    >>> slurm_site({}).partition is None
    True
    """
    settings = (config or {}).get("slurm") or {}
    try:
        return SlurmSite.model_validate(settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or '(slurm)'}: {err['msg']}" for err in exc.errors()
        )
        raise ReplikitError(
            "the workflow config's 'slurm' settings are invalid",
            where="config: slurm",
            expected=f"a mapping with some of {sorted(SlurmSite.model_fields)} (strings)",
            found=problems,
            fix="correct the key in your --configfile or --config, see docs/cluster.md",
        ) from exc


def gpus_needed(study: Study, experiment: Experiment) -> int:
    """GPUs one run of ``experiment`` asks for.

    The experiment's own ``resources.gpus`` when stated; otherwise, for a re-run of the
    original code, the paper's declared GPU count; otherwise none.
    """
    if "gpus" in experiment.resources.model_fields_set:
        return experiment.resources.gpus
    if experiment.implementation == "original":
        return study.hardware.declared.gpus
    return 0


def rule_resources(
    study: Study, experiment_name: str, site: SlurmSite | None = None
) -> dict[str, int | str]:
    """The Snakemake resources of one run of ``experiment_name``.

    Parameters
    ----------
    study
        The loaded study manifest.
    experiment_name
        A key of ``study.experiments``.
    site
        The site's SLURM settings (:func:`slurm_site`); ``None`` for none.

    Returns
    -------
    dict
        Every key of :data:`RESOURCE_KEYS`: ``gpu`` (int, 0 for none), ``mem_mb`` and
        ``runtime`` (int; :data:`RUN_DEFAULTS` where the manifest is silent),
        ``slurm_partition`` and ``slurm_extra`` (str, empty for the cluster's default).

    Raises
    ------
    ReplikitError
        When the study has no such experiment.
    """
    experiment = _experiment(study, experiment_name)
    site = site or SlurmSite()
    needs = experiment.resources
    gpus = gpus_needed(study, experiment)
    partition = (site.gpu_partition if gpus else None) or site.partition
    extra = (site.gpu_extra if gpus else None) or site.extra
    plan = timing_plan(study, experiment_name)
    if plan.alone:  # a timed run shares its node with no other job, for all its calls
        extra = f"{extra or ''} {EXCLUSIVE}".strip()
    return {
        "gpu": gpus,
        "mem_mb": needs.mem_mb or RUN_DEFAULTS["mem_mb"],
        "runtime": (needs.runtime or RUN_DEFAULTS["runtime"]) * (plan.warmup + plan.repeats),
        "slurm_partition": partition or "",
        "slurm_extra": extra or "",
    }


def rule_threads(study: Study, experiment_name: str, cores: int | None = None) -> int:
    """Threads (CPU cores) of one run; the SLURM plugin requests them per task.

    A timed run on one machine takes all ``cores`` (Snakemake's ``--cores``), so that the
    scheduler runs nothing beside it; pass ``None`` where jobs get nodes of their own.
    """
    declared = _experiment(study, experiment_name).resources.threads
    if cores and timing_plan(study, experiment_name).alone:
        return max(declared, cores)
    return declared


#: The variables through which Snakemake gives a job's threads to the numeric libraries.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_library_threads(study: Study, experiment_name: str,
                        environ: MutableMapping[str, str] | None = None) -> None:
    """Give the numeric libraries the experiment's declared threads, not the job's.

    A timed job holds every core so that it runs alone (:func:`rule_threads`), and Snakemake
    hands a job's threads to OpenMP and BLAS through the environment; the run itself must
    still compute with its declared threads, or its numbers and times would change. Call it
    before the runner imports those libraries.
    """
    environ = os.environ if environ is None else environ
    threads = str(_experiment(study, experiment_name).resources.threads)
    for name in THREAD_VARIABLES:
        environ[name] = threads


def run_rule_resources(
    resources_of: Callable[[str, str], Mapping[str, int | str]],
) -> dict[str, Callable[[Any], int | str]]:
    """The ``resources:`` of the run rule: one callable per key of :data:`RESOURCE_KEYS`.

    ``resources_of`` is ``(study, experiment) -> {key: value}`` as :func:`rule_resources`
    gives it, computed once per experiment (the workflow's cached ``run_resources``). An
    empty partition still overrides the profile's ``default-resources``, which are for the
    light rules. In ``workflow/rules/run.smk``: ``resources: **RUN_RESOURCES``.

    Examples
    --------
    >>> declared = run_rule_resources(lambda study, experiment: {"gpu": 1})
    >>> sorted(declared) == sorted(RESOURCE_KEYS), declared["gpu"].__name__
    (True, 'get_run_gpu')
    """
    return {key: resource_getter(key, resources_of) for key in RESOURCE_KEYS}


def alike(per_experiment: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The entries every mapping has with the same value (each experiment's resources).

    >>> alike([{"gpu": 0, "mem_mb": 500}, {"gpu": 0, "mem_mb": 800}])
    {'gpu': 0}
    >>> alike([])
    {}
    """
    first, *others = list(per_experiment) or [{}]
    return {key: value for key, value in first.items()
            if all(key in other and other[key] == value for other in others)}


def resource_getter(
    key: str, resources_of: Callable[[str, str], Mapping[str, int | str]]
) -> Callable[[Any], int | str]:
    """A Snakemake resource callable for ``key``, for rules with ``study`` and ``experiment``.

    Parameters
    ----------
    key
        One of :data:`RESOURCE_KEYS`.
    resources_of
        ``(study, experiment) -> {key: value}`` (see :func:`run_rule_resources`).
    """
    if key not in RESOURCE_KEYS:
        raise ReplikitError(
            f"unknown run resource {key!r}", expected=f"one of {RESOURCE_KEYS}",
            fix="use a key that replikit.run.resources.rule_resources returns",
        )

    def get(wildcards: Any) -> int | str:
        return resources_of(wildcards.study, wildcards.experiment)[key]

    get.__name__ = f"get_run_{key}"
    return get


def _experiment(study: Study, name: str) -> Experiment:
    try:
        return study.experiments[name]
    except KeyError:
        raise ReplikitError(
            f"study {study.name!r} has no experiment {name!r}",
            where=f"studies/{study.name}/study.yaml: experiments",
            expected=f"one of {sorted(study.experiments)}",
            found=repr(name),
            fix="name an experiment the manifest declares",
        ) from None
