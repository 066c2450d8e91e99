"""What the Snakemake workflow asks of a study: paths, targets and per-job parameters.

``workflow/rules/common.smk`` calls these functions, so the logic is tested here rather than
inside Snakemake files. Every path is keyed by the study's name, so jobs never depend on
the ``study`` config value (which matters on a cluster, where each job is re-invoked with
its target files only).

A study of E experiments x S seeds is planned as E x S run jobs, and Snakemake calls each
input function once per job; what depends only on the experiment (its code files, software
environment, parameters, resources) is therefore computed once per experiment and plan
(:func:`per_plan`), and :func:`new_plan` forgets it when the next plan begins. What every
experiment asks alike (most resources, most often) is no callable at all: the run rule gets
it as a constant when the plan begins (:func:`settle_resources`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from replikit import paths
from replikit.errors import ReplikitError, first_line
from replikit.fileio import read_json
from replikit.run.code import runner_files
from replikit.run.resources import SlurmSite, alike, rule_resources, rule_threads
from replikit.study import Study, load_study

if TYPE_CHECKING:
    from replikit.results import Results

#: The conda environment of an experiment that names none (``envs/replikit.yaml``).
DEFAULT_ENV = "replikit"

SHORTFORM = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)=(?P<value>.*)$")


def split_shortform(targets: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """Split ``key=value`` words off Snakemake's targets.

    ``snakemake --cores 8 study=bert4rec`` hands ``study=bert4rec`` to Snakemake as a target
    file; the workflow treats such words as ``--config`` entries instead. Values are parsed
    as YAML scalars, as ``--config`` does (``strict=true`` becomes a boolean).

    >>> split_shortform(["study=bert4rec", "strict=true", "results/x/claims.csv"])
    ({'study': 'bert4rec', 'strict': True}, ['results/x/claims.csv'])
    """
    import yaml

    config: dict[str, Any] = {}
    remaining = []
    for target in targets:
        match = SHORTFORM.match(target)
        if match and "/" not in match["key"]:
            config[match["key"]] = yaml.safe_load(match["value"]) if match["value"] else ""
        else:
            remaining.append(target)
    return config, remaining


def accept_shortform(workflow: Any, config: dict[str, Any], on_config: Any = None) -> None:
    """Make ``snakemake study=x`` mean ``snakemake --config study=x``.

    Snakemake parses the Snakefile before it hands the targets to the workflow, so the
    targets cannot be read at parse time. Instead the workflow object's class is given a
    ``dag_settings`` setter that, when Snakemake assigns the settings, moves ``key=value``
    targets into ``config`` and then calls ``on_config(config, settings)`` (e.g. to check
    that the study exists, which only then is known). Rules must therefore read ``config``
    in input functions or lambdas, never at parse time.
    """
    base = type(workflow)

    class ShortformWorkflow(base):  # type: ignore[misc, valid-type]
        @property
        def dag_settings(self):
            return self.__dict__.get("_shortform_dag_settings")

        @dag_settings.setter
        def dag_settings(self, settings):
            if settings is not None:
                updates, remaining = split_shortform(settings.targets)
                config.update(updates)
                settings.targets = frozenset(remaining)
                if on_config is not None:
                    on_config(config, settings)
            self.__dict__["_shortform_dag_settings"] = settings

    ShortformWorkflow.__name__ = base.__name__
    workflow.__class__ = ShortformWorkflow


#: The workflow config's yes/no keys (see :func:`normalize_config`).
BOOLEAN_KEYS = ("strict", "mlrc", "offline")

_BOOLEAN_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def normalize_config(config: dict[str, Any], boolean_keys: Iterable[str]) -> None:
    """Turn ``--config strict=true`` into a boolean.

    Snakemake's ``--config`` reads ``true`` as the string ``'true'`` (only ``True`` becomes a
    boolean), which the config schema would then reject.

    >>> config = {"strict": "true", "mlrc": "False", "study": "x"}
    >>> normalize_config(config, ["strict", "mlrc"]); config
    {'strict': True, 'mlrc': False, 'study': 'x'}
    """
    for key in boolean_keys:
        value = config.get(key)
        if isinstance(value, str) and value.lower() in _BOOLEAN_WORDS:
            config[key] = _BOOLEAN_WORDS[value.lower()]


_PER_PLAN: list[Any] = []


def per_plan(func: Callable[..., Any]) -> Any:
    """Cache ``func`` for the plan being made (its arguments are the key); see :func:`new_plan`."""
    cached = cache(func)
    _PER_PLAN.append(cached)
    return cached


def signature_once(func: Callable[..., Any]) -> Callable[..., Any]:
    """State an input function's parameters to Snakemake once, for every job that calls it.

    Snakemake reads a callable's signature (:func:`inspect.signature`) on each call, two or
    three times per job; with eight callables per run job that is a fifth of the plan of a
    10,000-job study. Snakemake's own wrappers (``snakemake.ioutils``) state theirs once
    through ``overwrite_function_params``; so does the run rule here.
    """
    import inspect

    from snakemake.common import overwrite_function_params

    overwrite_function_params(func, inspect.signature(func).parameters)
    return func


def new_plan() -> None:
    """Forget what earlier plans of this process computed: the workflow calls this when a
    plan begins, so a manifest or runner edited since is read again (a Snakemake API user
    may plan several times in one process)."""
    for cached in _PER_PLAN:
        cached.cache_clear()


@per_plan
def study(name: str) -> Study:
    """The validated manifest of ``name``, loaded once per plan."""
    return load_study(name)


def artifact_record(study_name: str, artifact: str) -> str:
    return str(paths.artifact_record(study_name, artifact))


def run_record(study_name: str, experiment: str, seed: int) -> str:
    return str(paths.run_record(study_name, experiment, seed))


def run_records(study_name: str) -> list[str]:
    """Every run of every declared experiment, one per seed.

    Claims use most experiments; the others (e.g. baselines shown beside the claims) feed the
    report's own tables, so a declared experiment always runs.
    """
    return list(_run_records(study_name))


@per_plan
def _run_records(study_name: str) -> tuple[str, ...]:
    return tuple(
        run_record(study_name, name, seed)
        for name, exp in study(study_name).experiments.items()
        for seed in exp.seeds
    )


def artifact_records(study_name: str) -> list[str]:
    return [artifact_record(study_name, name) for name in study(study_name).artifacts]


def installed_code_records(study_name: str) -> list[str]:
    """Records of the code artifacts installed from the package index (their packages'
    versions belong in the environment record)."""
    return [artifact_record(study_name, name) for name, a in study(study_name).artifacts.items()
            if a.role == "code" and any(getattr(s, "install", False) for s in a.sources)]


def needed_artifact_records(study_name: str, experiment: str) -> list[str]:
    return list(_needed_artifact_records(study_name, experiment))


@per_plan
def _needed_artifact_records(study_name: str, experiment: str) -> tuple[str, ...]:
    needs = study(study_name).experiments[experiment].needs
    return tuple(artifact_record(study_name, a) for a in needs)


def study_code(study_name: str, experiment: str) -> list[str]:
    """The study files an experiment's runs depend on (:func:`replikit.run.code.runner_files`):
    editing one runner re-runs only the experiments that use it."""
    return list(_study_code(study_name, experiment))


@per_plan
def _study_code(study_name: str, experiment: str) -> tuple[str, ...]:
    exp = study(study_name).experiments[experiment]
    return tuple(str(p) for p in runner_files(paths.study_dir(study_name), exp.runner, exp.code))


@per_plan
def run_env(study_name: str, experiment: str, envs_dir: str | Path) -> str:
    """The conda environment file of an experiment's runs: ``<envs_dir>/<env>.yaml``.

    An experiment names its environment in the manifest (``env: torch``); one that names
    none runs in ``replikit``, the environment of replikit's own rules.
    """
    env = study(study_name).experiments[experiment].env or DEFAULT_ENV
    path = Path(envs_dir) / f"{env}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in Path(envs_dir).glob("*.yaml"))
        raise ReplikitError(
            f"experiment {experiment!r} names the software environment {env!r}, "
            "which has no file", where=f"studies/{study_name}/study.yaml: "
            f"experiments.{experiment}.env", expected=f"one of {known}", found=repr(env),
            fix=f"name one of the environments, or add {path}",
        )
    return str(path.resolve())


@per_plan
def run_resources(study_name: str, experiment: str, site: SlurmSite) -> dict[str, int | str]:
    """What one run of ``experiment`` asks of a machine (:func:`replikit.run.resources.
    rule_resources`), once per experiment and plan."""
    return rule_resources(study(study_name), experiment, site)


def alike_run_resources(study_name: str, site: SlurmSite, cores: int | None) -> dict[str, Any]:
    """What every run of the study asks alike: resources, and ``_cores`` (its threads)."""
    return alike({**run_resources(study_name, name, site),
                  "_cores": rule_threads(study(study_name), name, cores)}
                 for name in study(study_name).experiments)


def settle_resources(rule: Any, declared: dict[str, Any], constants: dict[str, Any],
                     settings: Any) -> None:
    """Give ``rule`` as constants the resources its jobs all ask alike, and the ``declared``
    callables (``{"_cores": threads, "mem_mb": ...}``) for the others.

    Snakemake evaluates a callable resource for every job, at several times the cost of the
    value (signature inspections, wrappers): four of them on 10,000 run jobs were a sixth of
    the plan. The values are known only once the study is, after the rules are made
    (:func:`accept_shortform`), so the workflow settles them when each plan begins; a later
    plan of another study in the same process settles again. Keys the user set
    (``--set-resources``, ``--set-threads``: Snakemake's ``settings``) are left as they are.
    """
    from snakemake.resources import Resources

    user_set = {_size_base(key) for key in settings.overwrite_resources.get(rule.name, {})}
    if rule.name in settings.overwrite_threads:
        user_set.add("_cores")
    rule.resources.update(Resources.from_mapping({
        key: constants.get(key, getter) for key, getter in declared.items()
        if _size_base(key) not in user_set}))


def _size_base(key: str) -> str:
    """``mem`` for ``mem``, ``mem_mb`` and ``mem_mib``: Snakemake's names of one size."""
    return re.sub(r"_mi?b$", "", key)


def artifact_params(study_name: str, artifact: str) -> dict[str, Any]:
    return study(study_name).artifacts[artifact].model_dump(mode="json")


def chosen_profile(study_name: str, config: dict[str, Any]) -> str | None:
    """The budget profile of this run: ``config['profile']``, else the study's default."""
    return config.get("profile") or study(study_name).default_profile()


@per_plan
def experiment_params(study_name: str, experiment: str, profile: str | None) -> dict[str, Any]:
    """What a run depends on: a change here (e.g. another profile) re-runs it.

    One mapping per experiment and plan, shared by its runs: read it, never change it.
    """
    spec = study(study_name).experiments[experiment].model_dump(mode="json")
    spec["params"] = study(study_name).experiment_params(experiment, profile)
    spec["profile"] = profile
    return spec


def final_outputs(
    study_name: str, formats: Iterable[str] = ("html", "pdf"), mlrc: bool = False
) -> list[str]:
    """The report in each format, its claims-detail page and, with ``mlrc``, the MLRC draft."""
    outputs = [str(paths.report(study_name, fmt)) for fmt in formats]
    outputs.append(str(paths.claims_detail(study_name, "html")))
    return outputs + ([mlrc_draft(study_name)] if mlrc else [])


def mlrc_draft(study_name: str) -> str:
    return str(paths.mlrc_draft(study_name))


def study_ledgers() -> list[str]:
    """The ledger of every study with results (``results/<study>/claims.csv``), for the site.

    One level is looked at: Snakemake's ``glob_wildcards`` would walk every run folder below
    ``results/``, at every plan of any study.
    """
    return sorted(str(p) for p in paths.RESULTS.glob(f"*/{paths.ledger('x').name}")
                  if not p.parent.name.startswith("."))


def audit_record(study_name: str) -> list[str]:
    """``results/<study>/audit.json`` when the study audits a code artifact (an optional input)."""
    audited = study(study_name).audited_artifact()
    return [str(paths.audit(study_name))] if audited else []


def audited_artifact_record(study_name: str) -> str:
    """The fetch record of the artifact the audit reads."""
    return artifact_record(study_name, study(study_name).audited_artifact())


def contact_log(study_name: str) -> list[str]:
    """``studies/<study>/contacts.yaml`` when the study keeps one (an optional input)."""
    path = paths.study_dir(study_name) / paths.CONTACTS
    return [str(path)] if path.exists() else []


def peer_files(study_name: str) -> list[str]:
    """The files a study's peer figures are read from (``report.peers``), for the report."""
    return sorted({peer.file for peer in study(study_name).report.peers})


def study_notes(study_name: str) -> list[str]:
    """The human-written parts of the MLRC draft, ``studies/<study>/notes/*.md``."""
    return sorted(str(p) for p in (paths.study_dir(study_name) / "notes").glob("*.md"))


def optional_file(value: str | list[str]) -> str | None:
    """A Snakemake input that is one file or none (Snakemake gives a str or an empty list)."""
    if isinstance(value, str):
        return value
    return value[0] if value else None


@contextlib.contextmanager
def script_logging(log_path: str | Path) -> Iterator[logging.Logger]:
    """Send a workflow script's logging, stdout and stderr to its Snakemake log file."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as handle:
        handler = logging.StreamHandler(handle)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
            try:
                yield logging.getLogger("replikit.workflow")
            except Exception:
                logging.getLogger("replikit.workflow").exception("the job failed")
                raise
            finally:
                root.removeHandler(handler)
                sys.stdout.flush()


@contextlib.contextmanager
def job(smk: Any) -> Iterator[logging.Logger]:
    """The frame of every workflow script: its log, one clean block per failure, last good copies.

    A :class:`ReplikitError` prints as one block naming the rule, its wildcards (study,
    experiment, seed, artifact), the file and the fix, with no Python traceback; another
    exception prints one line saying where its traceback is (the rule's log). Either way the
    job exits 1 and the last good copy of each output (:func:`replikit.paths.last_good`) is
    named. On success each output is copied there.
    """
    log_path = smk.log[0]
    try:
        with script_logging(log_path) as log:
            yield log
    except ReplikitError as error:
        _print_failure(smk, str(error), log_path)
        raise SystemExit(1) from None
    except Exception as error:  # noqa: BLE001 (any other error: traceback kept in the log)
        _print_failure(smk, f"unexpected {type(error).__name__}: {first_line(error)}\n"
                       f"  the traceback is in {log_path}", log_path)
        raise SystemExit(1) from None
    keep_last_good(smk.output)


def job_label(smk: Any) -> str:
    """``run_experiment (study tiny, experiment mean, seed 0)``."""
    wildcards = ", ".join(f"{key} {value}" for key, value in smk.wildcards.items())
    return f"{smk.rule} ({wildcards})" if wildcards else str(smk.rule)


def keep_last_good(outputs: Iterable[str]) -> None:
    """Copy each output (file or folder) to its :func:`replikit.paths.last_good` place."""
    for output in map(Path, outputs):
        kept = paths.last_good(output)
        kept.parent.mkdir(parents=True, exist_ok=True)
        if output.is_dir():
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(output, kept)
        elif output.is_file():
            shutil.copy2(output, kept)


def _print_failure(smk: Any, message: str, log_path: str) -> None:
    kept = [paths.last_good(o) for o in smk.output if paths.last_good(o).exists()]
    lines = [f"replikit: {job_label(smk)} failed", *(f"  {line}" for line in
                                                     message.splitlines())]
    if kept:
        lines.append(f"  the last good result is kept: {', '.join(map(str, kept))}")
    if smk.rule == "run_experiment" and kept:
        lines.append(f"  until this run succeeds, 'replikit status {smk.wildcards.study}' "
                     "counts the kept record, marked 'kept from an earlier run', and the "
                     "next workflow run tries it again")
    lines.append(f"  log: {log_path}")
    print("\n".join(lines), file=sys.stderr, flush=True)


def results_of(smk: Any) -> Results:
    """The study's results, read once from an output rule's named inputs (report, draft).

    The rule names ``ledger``, ``samples``, ``artifacts``, ``env`` and ``contacts`` inputs
    and a ``report_date`` param; ``benchmarks`` is an optional param. The run records read are
    the study's declared runs (:func:`run_records`), those the ledger was made from.
    """
    from replikit.results import Results as _Results
    from replikit.results import report_date

    runs = run_records(smk.wildcards.study)
    when = report_date(runs, smk.params.report_date, fallback=[smk.input.ledger])
    contacts = optional_file(smk.input.contacts)
    audit = optional_file(getattr(smk.input, "audit", []))
    benchmarks = getattr(smk.params, "benchmarks", None)
    return _Results.from_files(
        smk.input.ledger, smk.input.samples, runs, smk.input.artifacts,
        smk.input.env, when=when, contacts_file=Path(contacts) if contacts else None,
        benchmarks=Path(benchmarks) if benchmarks else None,
        audit=read_json(audit) if audit else None)
