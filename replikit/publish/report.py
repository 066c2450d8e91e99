"""The report's source: ``reports/<study>/report.qmd`` with its figures and tables.

The report shows results computed elsewhere. The ledger (``results/<study>/claims.csv``)
holds every mean, standard deviation, confidence interval, drift and verdict; the run
records hold the single measurements; the artifact records and ``env.json`` say what was
used and where. This module only selects, formats and lays those out, and copies each
table it shows to ``tables/*.csv`` so that every number in the report can be traced to a
file. It never computes a statistic.

The ``.qmd`` is Quarto Markdown kept to the subset that pandoc reads too (callouts and
``@fig-`` references are translated by ``templates/report/quarto-compat.lua`` when Quarto
is absent), so :func:`replikit.publish.render.render` can
produce HTML, PDF, DOCX and LaTeX either way.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from replikit import completeness as code_check
from replikit import paths
from replikit.errors import ReplikitError
from replikit.evaluate import cost
from replikit.ext.recsys.report_section import ranking_section
from replikit.fileio import atomic_path, read_json, write_text
from replikit.publish import figures
from replikit.publish.exports import redact_text
from replikit.publish.text import (
    DASH,
    Raw,
    code_span,
    fmt_number,
    fmt_percent,
    is_missing,
    markdown_table,
    md_escape,
)
from replikit.study import Study
from replikit.vocabulary import LEVELS, VERDICTS

TEMPLATES = paths.templates("report")
LEDGER_COLUMNS = (
    "claim_id", "level", "experiment", "kind", "metric", "reported", "decimals", "n", "mean",
    "sd", "ci_low", "ci_high", "drift_abs", "drift_rel", "tolerance", "band_low", "band_high",
    "p_value", "test", "comparable", "verdict", "reason", "seeds",
)
CLAIMS_PER_FIGURE = 22  # keeps a one-panel figure legible within one A4 page
TEXT_WIDTH_IN = 6.7  # A4 with 2 cm margins, as set in _quarto.yml and by render.py
MAX_FIGURE_HEIGHT_IN = 8.4


# --------------------------------------------------------------------------- loading
def load_ledger(ledger: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Return the ledger as a DataFrame, checking its columns and verdicts.

    Parameters
    ----------
    ledger
        A DataFrame, or the path of ``results/<study>/claims.csv``.
    """
    where = "ledger"
    if not isinstance(ledger, pd.DataFrame):
        where = str(ledger)
        if not Path(ledger).exists():
            raise ReplikitError("the claims ledger does not exist", where=where,
                                fix="run the workflow's ledger step first")
        ledger = pd.read_csv(ledger, dtype={"seeds": str, "claim_id": str})
    missing = [c for c in LEDGER_COLUMNS if c not in ledger.columns]
    if missing:
        raise ReplikitError(
            "the claims ledger lacks columns the report shows", where=where,
            expected=f"columns {list(LEDGER_COLUMNS)}", found=f"missing {missing}",
            fix="rebuild results/<study>/claims.csv with the current replikit",
        )
    unknown = sorted(set(ledger["verdict"].dropna()) - set(VERDICTS))
    if unknown or ledger["verdict"].isna().any():
        raise ReplikitError(
            "the claims ledger has verdicts the report does not know", where=f"{where}: verdict",
            expected=f"one of {list(VERDICTS)} in every row",
            found=str(unknown or ["(empty)"]), fix="rebuild the ledger",
        )
    return ledger.reset_index(drop=True)


def load_runs(runs_dir: str | Path) -> list[dict[str, Any]]:
    """Read every ``runs/<experiment>/seed=<s>/metrics.json`` under ``runs_dir``, sorted."""
    records = sorted(Path(runs_dir).glob(paths.RUN_RECORD_GLOB))
    return [read_json(p) for p in records]


def load_artifacts(artifacts_dir: str | Path) -> list[dict[str, Any]]:
    """Read every ``artifacts/<name>.json`` record under ``artifacts_dir``, by name."""
    return [read_json(p) for p in sorted(Path(artifacts_dir).glob("*.json"))]


def _as_records(value: Any, loader) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str | Path):
        return loader(value)
    return list(value)


# --------------------------------------------------------------------------- formatting
def _measured_digits(decimals: Any) -> int | None:
    """Print measurements two digits finer than the paper, so small drifts stay visible."""
    return None if is_missing(decimals) else int(decimals) + 2


# --------------------------------------------------------------------------- samples
def _seed_set(seeds: Any) -> set[int] | None:
    """Seeds as the ledger writes them ('0;1;2', '[0, 1]', '3'); None when not recorded."""
    if is_missing(seeds) or str(seeds).strip() == "":
        return None
    return {int(s) for s in re.findall(r"-?\d+", str(seeds))}


def measurement_samples(ledger: pd.DataFrame, runs: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The single measurements behind each value-claim row of the ledger.

    For each row, the run records of its experiment (and of its seeds, when the ledger
    lists them) give one value per fold when the run recorded folds, else one per seed.
    These are copied, not summarised: the figures draw them next to the ledger's mean.

    Returns
    -------
    pandas.DataFrame
        Columns claim_id, level, experiment, metric, seed, fold, value.
    """
    by_experiment: dict[str, list[dict[str, Any]]] = {}
    for record in runs:
        if record.get("status", "ok") == "ok":
            by_experiment.setdefault(str(record.get("experiment")), []).append(record)
    rows = []
    for _, row in ledger[ledger["kind"] == "value"].iterrows():
        wanted = _seed_set(row["seeds"])
        for record in sorted(by_experiment.get(str(row["experiment"]), []),
                             key=lambda r: r.get("seed", 0)):
            if wanted is not None and int(record.get("seed", -1)) not in wanted:
                continue
            rows.extend(_record_values(row, record))
    columns = ["claim_id", "level", "experiment", "metric", "seed", "fold", "value"]
    return pd.DataFrame(rows, columns=columns)


def _record_values(row: pd.Series, record: dict[str, Any]) -> list[dict[str, Any]]:
    metric = str(row["metric"])
    base = {"claim_id": row["claim_id"], "level": row["level"],
            "experiment": row["experiment"], "metric": metric, "seed": record.get("seed")}
    folds = [f for f in record.get("folds") or [] if metric in f]
    if folds:
        return [{**base, "fold": f.get("fold", i), "value": f[metric]}
                for i, f in enumerate(folds)]
    value = (record.get("metrics") or {}).get(metric)
    return [] if value is None else [{**base, "fold": None, "value": value}]


# --------------------------------------------------------------------------- tables
def verdict_counts(ledger: pd.DataFrame) -> pd.DataFrame:
    """How many claim-level checks got each verdict, per level and in total (a tally)."""
    levels = [lv for lv in LEVELS if lv in set(ledger["level"])]
    levels += sorted(set(ledger["level"]) - set(levels))
    table = pd.crosstab(ledger["level"], ledger["verdict"]).reindex(
        index=levels, columns=list(VERDICTS), fill_value=0)
    table.loc["all levels"] = table.sum()
    table["checks"] = table.sum(axis=1)
    table.index.name = "level"
    return table.reset_index()


def _claim_detail_table(claim_rows: pd.DataFrame) -> pd.DataFrame:
    """Quantities down, levels across: narrow enough for a printed page."""
    cells: dict[str, list[Any]] = {"": [
        "experiment", "reported", "measured (mean ± sd, n)", "95% CI", "drift",
        "tolerance band", "test (p)", "verdict", "reason"]}
    for _, row in claim_rows.iterrows():
        digits = _measured_digits(row["decimals"])
        rep = fmt_number(row["reported"], None if is_missing(row["decimals"])
                         else int(row["decimals"]))
        measured = fmt_number(row["mean"], digits)
        if not is_missing(row["mean"]) and not is_missing(row["sd"]):
            measured += f" ± {fmt_number(row['sd'], digits)}"
        if not is_missing(row["mean"]) and not is_missing(row["n"]):
            measured += f" (n = {int(row['n'])})"
        ci = (DASH if is_missing(row["ci_low"]) else
              f"[{fmt_number(row['ci_low'], digits)}, {fmt_number(row['ci_high'], digits)}]")
        drift = (DASH if is_missing(row["drift_abs"]) else
                 f"{float(row['drift_abs']):+.{digits if digits is not None else 4}f} "
                 f"({fmt_percent(row['drift_rel'])})")
        band = (DASH if is_missing(row["band_low"]) else
                f"[{fmt_number(row['band_low'], digits)}, {fmt_number(row['band_high'], digits)}]")
        test = DASH if is_missing(row["test"]) else (
            f"{row['test']} ({fmt_number(row['p_value'], None)})")
        cells[str(row["level"])] = [code_span(row["experiment"]), rep, measured, ci, drift,
                                    band, test, Raw(f"**{md_escape(row['verdict'])}**"),
                                    row["reason"] if not is_missing(row["reason"]) else ""]
    return pd.DataFrame(cells)


def _time_table(ledger: pd.DataFrame) -> pd.DataFrame:
    rows = ledger[ledger["kind"] == "time"]
    return pd.DataFrame({
        "claim": [code_span(c) for c in rows["claim_id"]],
        "level": rows["level"].tolist(),
        "reported (s)": [fmt_number(v, 1) for v in rows["reported"]],
        "measured (s)": [fmt_number(v, 1) for v in rows["mean"]],
        "drift": [fmt_percent(v) for v in rows["drift_rel"]],
        "comparable": [_yes_no(v) for v in rows["comparable"]],
        "verdict": rows["verdict"].tolist(),
        "reason": rows["reason"].fillna("").tolist(),
    })


def _yes_no(value: Any) -> str:
    if is_missing(value):
        return DASH
    if isinstance(value, str):
        return "yes" if value.strip().lower() in ("true", "yes", "1") else "no"
    return "yes" if bool(value) else "no"


def _artifact_table(artifacts: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for record in artifacts:
        source = record.get("source") or {}
        rows.append({
            "artifact": code_span(record.get("name")),
            "status": record.get("status", DASH),
            "source used": (f"{source.get('kind')}: {source.get('ref')}" if source else DASH),
            "sha256": code_span((record.get("sha256") or "")[:16] + "…"
                            if record.get("sha256") else ""),
            "commit": code_span((record.get("commit") or "")[:12]),
        })
    return pd.DataFrame(rows, columns=["artifact", "status", "source used", "sha256", "commit"])


def _artifact_details(artifacts: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Full hashes and the sources tried, for the list under the artifact table."""
    out = []
    for record in artifacts:
        dist = record.get("distribution") or {}
        out.append({
            "name": md_escape(record.get("name")),
            "sha256": record.get("sha256") or "",
            "commit": record.get("commit") or "",
            "distribution": (f"{md_escape(dist.get('file'))} (sha256 `{dist.get('sha256')}`)"
                             if dist else ""),
            "path": md_escape(record.get("path") or ""),
            "reason": md_escape(record.get("reason") or ""),
            "tried": [md_escape(t) for t in record.get("tried") or []],
        })
    return out


def _hardware_rows(env: dict[str, Any]) -> list[dict[str, Any]]:
    """The declared-vs-actual table, whichever key the environment step stored it under."""
    for key in ("hardware", "declared_vs_actual", "hardware_table"):
        value = env.get(key)
        if isinstance(value, list):
            return value
        if isinstance(value, dict) and isinstance(value.get("table"), list):
            return value["table"]
    return []


def _hardware_table(env: dict[str, Any]) -> pd.DataFrame:
    rows = _hardware_rows(env)
    return pd.DataFrame({
        "item": [r.get("item", "") for r in rows],
        "declared (paper)": [DASH if is_missing(r.get("declared")) else r.get("declared")
                             for r in rows],
        "actual (this study)": [DASH if is_missing(r.get("actual")) else r.get("actual")
                                for r in rows],
        "match": [_match_word(r.get("match")) for r in rows],
    }, columns=["item", "declared (paper)", "actual (this study)", "match"])


def _match_word(value: Any) -> str:
    if value is None:
        return "not stated"
    if isinstance(value, str):
        return value
    return "yes" if value else "no"


def _software_table(study: Study, env: dict[str, Any]) -> pd.DataFrame:
    packages = env.get("packages") or {}
    if isinstance(packages, list):  # [{name, version}] is accepted too
        packages = {p.get("name"): p.get("version") for p in packages}
    declared = study.hardware.software
    # What the runs used first: the code artifacts' packages, then what the paper declares.
    installed = {n: (v, artifact) for artifact, found in (env.get("artifact_packages") or {})
                 .items() for n, v in found.items()}
    first = list(installed) + [n for n in declared if n not in installed]
    names = first + sorted(set(packages) - set(first))
    return pd.DataFrame({
        "package": [code_span(n) for n in names],
        "declared (paper)": [declared.get(n, DASH) for n in names],
        "used (this study)": [installed[n][0] if n in installed else packages.get(n, DASH)
                              for n in names],
        "installed from": [f"artifact {installed[n][1]}" if n in installed else
                           ("environment" if n in packages else DASH) for n in names],
    }, columns=["package", "declared (paper)", "used (this study)", "installed from"])


def _system_lines(env: dict[str, Any]) -> list[tuple[str, str]]:
    git = env.get("git") or {}
    items = [("Python", env.get("python")), ("Operating system", env.get("os")),
             ("CPU", env.get("cpu")), ("Cores", env.get("cores")),
             ("Memory", env.get("memory")), ("GPU", env.get("gpu") or "none"),
             ("Software deployment", env.get("software_deployment")),
             ("Cluster job", env.get("slurm_job_id")),
             ("replikit commit", (f"`{git.get('commit')}`" + (" (uncommitted changes)"
                                                           if git.get("dirty") else ""))
              if git.get("commit") else None)]
    return [(k, str(v)) for k, v in items if v not in (None, "")]


def _deviation_table(study: Study) -> pd.DataFrame:
    return pd.DataFrame({
        "what": [d.what for d in study.deviations],
        "kind": [d.kind for d in study.deviations],
        "why": [d.reason for d in study.deviations],
        "claims": [", ".join(d.claims) if d.claims else "all" for d in study.deviations],
    }, columns=["what", "kind", "why", "claims"])


# --------------------------------------------------------------------------- summary text
def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_paragraph(study: Study, ledger: pd.DataFrame) -> str:
    """One paragraph a busy reader can trust: what was checked and what came out, per level.

    Every number in it is a count of ledger rows (also in ``tables/verdict_counts.csv``).
    """
    n_claims = ledger["claim_id"].nunique()
    parts = [f"We checked {_plural(n_claims, 'claim')} of *{md_escape(study.paper.title)}* "
             f"({md_escape(study.paper.venue)}) in {_plural(len(ledger), 'check')} "
             "(one per claim and level)."]
    for level in [lv for lv in LEVELS if lv in set(ledger["level"])]:
        rows = ledger[ledger["level"] == level]
        counts = rows["verdict"].value_counts()
        said = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts.get(v, 0))
        parts.append(f"At the {level} level ({_plural(len(rows), 'check')}): {said}.")
    failed = ledger.loc[ledger["verdict"] == "not reproduced", "claim_id"].unique().tolist()
    if failed:
        shown = ", ".join(f"`{c}`" for c in failed[:6]) + (" and others" if len(failed) > 6
                                                          else "")
        parts.append(f"Not reproduced at one level or more: {shown} "
                     f"({_plural(len(failed), 'claim')}).")
    not_run = ledger[ledger["verdict"] == "not run"]
    if len(not_run):
        causes = not_run_causes(not_run["reason"].fillna("no reason recorded"))
        said = "; ".join(f"{n} because {md_escape(cause)}" for cause, n in causes[:3])
        several = sum(n for _, n in causes) > len(not_run)
        parts.append(f"{_plural(len(not_run), 'check')} could not run"
                     + (" (some for more than one reason)" if several else "")
                     + f": {said}" + ("; and for other reasons." if len(causes) > 3 else "."))
    times = ledger[ledger["kind"] == "time"]
    if len(times):
        comparable = sum(_yes_no(v) == "yes" for v in times["comparable"])
        parts.append(f"Of {_plural(len(times), 'time check')}, {comparable} "
                     f"{'is' if comparable == 1 else 'are'} comparable with the paper's "
                     "hardware; the others are indicative only.")
    return " ".join(parts)


_MISSING_ARTIFACT = re.compile(r"artifact '([^']+)' unavailable: (.*?) \(tried \d+ sources?\)")
_MISSING_GPU = re.compile(r"needs \d+ GPU\(s\)[^;]*")


def not_run_causes(reasons: Iterable[str]) -> list[tuple[str, int]]:
    """The distinct causes behind "not run" checks, most frequent first.

    A reason names the experiment and seeds before its cause ("rerun-svd-1m seed(s) 0:
    artifact 'ml-1m' unavailable: …"), so listing reasons verbatim repeats one cause once per
    experiment; this counts each cause (a missing artifact, a missing GPU) once per check.

    >>> not_run_causes(["a seed(s) 0: artifact 'd' unavailable: offline? (tried 1 source)",
    ...                 "b seed(s) 0: artifact 'd' unavailable: offline? (tried 1 source)"])
    [("artifact 'd' is unavailable (offline?)", 2)]
    """
    counts: dict[str, int] = {}
    for reason in reasons:
        causes = [f"artifact '{name}' is unavailable ({why})"
                  for name, why in _MISSING_ARTIFACT.findall(reason)]
        causes += [gpu.strip() for gpu in _MISSING_GPU.findall(reason)]
        for cause in dict.fromkeys(causes or [reason]):
            counts[cause] = counts.get(cause, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def time_statement(ledger: pd.DataFrame, env: dict[str, Any]) -> str:
    """A plain statement on whether the time claims can be compared at all."""
    times = ledger[ledger["kind"] == "time"]
    if times.empty:
        return "The study has no time claims."
    mismatched = [r for r in _hardware_rows(env) if r.get("match") is False]
    comparable = [_yes_no(v) == "yes" for v in times["comparable"]]
    if all(comparable):
        return ("All time claims were measured on hardware the ledger judges comparable "
                "with the paper's; their verdicts can be read like the others.")
    hardware = "; ".join(f"{md_escape(r.get('item'))}: declared {md_escape(r.get('declared'))}"
                         f", actual {md_escape(r.get('actual'))}" for r in mismatched)
    lead = ("None of the time claims is comparable"
            if not any(comparable) else
            f"{len(comparable) - sum(comparable)} of {len(comparable)} time checks are not "
            "comparable")
    because = (f" because the hardware differs from the paper's ({hardware})"
               if hardware else " (see each row's reason)")
    return (f"{lead}{because}. Their measured times are reported for information only and "
            "are not evidence for or against the paper.")


# --------------------------------------------------------------------------- figures
def _png_size_inches(path: Path) -> tuple[float, float]:
    """Width and height of a PNG in inches at the figures' resolution (from its header)."""
    with path.open("rb") as handle:
        header = handle.read(24)
    width, height = struct.unpack(">II", header[16:24])
    return width / figures.DPI, height / figures.DPI


def _figure_width(path: Path) -> str:
    """The width attribute that keeps a figure within one printed page."""
    width, height = _png_size_inches(path)
    shown = min(TEXT_WIDTH_IN, width)
    if shown / width * height > MAX_FIGURE_HEIGHT_IN:
        shown = MAX_FIGURE_HEIGHT_IN / height * width
    return f"{round(shown / TEXT_WIDTH_IN * 100)}%"


def _draw_figures(ledger: pd.DataFrame, samples: pd.DataFrame, out: Path) -> dict[str, list]:
    """Draw every figure, splitting long claim lists over several images (one per page)."""
    groups = figures.balanced_chunks(list(dict.fromkeys(ledger["claim_id"])),
                                     CLAIMS_PER_FIGURE)
    made: dict[str, list] = {"matrix": [], "drift": [], "seed_variance": []}
    value_claims = list(dict.fromkeys(figures.value_rows(ledger)["claim_id"]))
    value_groups = figures.balanced_chunks(value_claims, CLAIMS_PER_FIGURE)
    for i, group in enumerate(groups, 1):
        path = out / "figures" / f"matrix-{i}.png"
        figures.matrix_figure(ledger[ledger["claim_id"].isin(group)], path,
                              max_rows=CLAIMS_PER_FIGURE)
        made["matrix"].append(_figure_entry(path, i, len(groups), group))
    for i, group in enumerate(value_groups, 1):
        part = ledger[ledger["claim_id"].isin(group)]
        path = out / "figures" / f"drift-{i}.png"
        figures.drift_figure(part, samples[samples["claim_id"].isin(group)], path,
                             max_rows=CLAIMS_PER_FIGURE)
        made["drift"].append(_figure_entry(path, i, len(value_groups), group))
        path = out / "figures" / f"seed-variance-{i}.png"
        figures.seed_variance_figure(part, path, max_rows=CLAIMS_PER_FIGURE)
        made["seed_variance"].append(_figure_entry(path, i, len(value_groups), group))
    _remove_stale_figures(out / "figures", {e["path"] for kind in made.values() for e in kind})
    return made


def _remove_stale_figures(folder: Path, current: set[str]) -> None:
    """Drop figure parts left by an earlier, longer report (e.g. matrix-3.png of 3)."""
    for path in folder.glob("*.png"):
        if re.fullmatch(r"(matrix|drift|seed-variance)-\d+\.png", path.name) and \
                f"figures/{path.name}" not in current:
            path.unlink()


def _figure_entry(path: Path, index: int, total: int, group: list[str]) -> dict[str, str]:
    span = (f" (part {index} of {total}: `{group[0]}` to `{group[-1]}`)"
            if total > 1 and group else "")
    return {"path": f"figures/{path.name}", "id": path.stem, "width": _figure_width(path),
            "part": span}


# --------------------------------------------------------------------------- writing
def _write_csv(frame: pd.DataFrame, path: Path) -> str:
    clean = frame.map(lambda v: str(v) if isinstance(v, Raw) else v)
    clean = clean.rename(columns=lambda c: c or "quantity")
    with atomic_path(path) as tmp:
        clean.to_csv(tmp, index=False, lineterminator="\n")
    return f"tables/{path.name}"


def _environment(env: dict[str, Any] | str | Path | None) -> dict[str, Any]:
    if env is None:
        return {}
    env = read_json(env) if isinstance(env, str | Path) else dict(env)
    # replikit.environment.capture nests the machine's facts under "hardware"; the report
    # reads them flat (cpu, cores, memory, gpu).
    machine = env.get("hardware")
    if isinstance(machine, dict):
        env.setdefault("cpu", machine.get("cpu"))
        env.setdefault("cores", machine.get("cores"))
        if machine.get("memory_gb") is not None:
            env.setdefault("memory", f"{machine['memory_gb']} GiB")
        env.setdefault("gpu", machine.get("gpu"))
    return env


def _jinja() -> jinja2.Environment:
    # ``{#`` opens a Jinja comment by default but is Quarto's figure-id syntax.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
        comment_start_string="{=#", comment_end_string="#=}", keep_trailing_newline=True,
        autoescape=False,
    )


def write_report_source(
    study: Study,
    ledger: pd.DataFrame | str | Path,
    runs: Iterable[dict[str, Any]] | str | Path | None,
    artifacts: Iterable[dict[str, Any]] | str | Path | None,
    env: dict[str, Any] | str | Path | None,
    rules_markdown: str,
    out_dir: str | Path,
    benchmarks: str | Path | None = None,
    *,
    communication: str = "",
) -> Path:
    """Write ``report.qmd``, ``_quarto.yml``, ``figures/*.png`` and ``tables/*.csv``.

    Parameters
    ----------
    study
        The validated study manifest.
    ledger
        The claims ledger, as a DataFrame or the path of ``results/<study>/claims.csv``.
    runs
        Run records (the contents of ``metrics.json`` files) or the ``runs/`` folder.
    artifacts
        Artifact records or the ``artifacts/`` folder.
    env
        The environment record or the path of ``env.json``.
    rules_markdown
        The verdict rules, in Markdown; shown verbatim.
    out_dir
        The report folder, ``reports/<study>``.
    benchmarks
        ``benchmarks/<study>``, where Snakemake's ``benchmark:`` files lie; None to take the
        runs' cost from their records alone.
    communication
        The section on communication with the authors, in Markdown
        (:func:`replikit.publish.exports.communication_markdown`); left out when empty.

    Returns
    -------
    Path
        The path of ``report.qmd``.
    """
    out = Path(out_dir)
    ledger = load_ledger(ledger)
    runs = _as_records(runs, load_runs)
    artifacts = _as_records(artifacts, load_artifacts)
    env = _environment(env)
    _check_claims(study, ledger)
    samples = measurement_samples(ledger, runs)
    context = _context(study, ledger, samples, artifacts, env, rules_markdown, out)
    context["communication"] = communication.strip()
    context.update(_cost_context(study, runs, env, benchmarks, out))
    context.update(_completeness_context(artifacts, ledger, out))
    # After _context: its figure drawing removes figures it did not make.
    context["ranking_section"] = ranking_section(study, runs, out, _write_csv, markdown_table)
    env_j = _jinja()
    write_text(out / "_quarto.yml", env_j.get_template("_quarto.yml.j2").render(context))
    write_text(out / "style.css", (TEMPLATES / "style.css").read_text(encoding="utf-8"))
    # Every public format is rendered from this one source, so withholding e-mail addresses
    # here withholds them everywhere (unless the study sets report.redact_emails: false).
    text = redact_text(study, env_j.get_template("report.qmd.j2").render(context))
    return write_text(out / "report.qmd", text)


def _check_claims(study: Study, ledger: pd.DataFrame) -> None:
    known = {c.id for c in study.claims}
    strangers = sorted(set(ledger["claim_id"]) - known)
    if strangers:
        raise ReplikitError(
            f"the ledger names claims that study {study.name!r} does not declare",
            where="claims.csv: claim_id", expected=f"ids among {sorted(known)[:5]}...",
            found=str(strangers[:5]), fix="rebuild the ledger for this study",
        )


def _context(study, ledger, samples, artifacts, env, rules_markdown, out) -> dict[str, Any]:
    tables = out / "tables"
    matrix = figures.verdict_matrix(ledger)
    counts = verdict_counts(ledger)
    matrix_md = matrix.reset_index()
    matrix_md["claim_id"] = [code_span(c) for c in matrix_md["claim_id"]]
    matrix_md = matrix_md.map(lambda v: v if v != "" else DASH)
    sources = {
        "ledger": _write_csv(ledger, tables / "ledger.csv"),
        "counts": _write_csv(counts, tables / "verdict_counts.csv"),
        "matrix": _write_csv(matrix.reset_index(), tables / "verdict_matrix.csv"),
        "samples": _write_csv(samples, tables / "measurements.csv"),
        "artifacts": _write_csv(pd.DataFrame(artifacts).map(_flatten),
                                tables / "artifacts.csv"),
        "hardware": _write_csv(_hardware_table(env), tables / "hardware.csv"),
        "software": _write_csv(_software_table(study, env), tables / "software.csv"),
        "time": _write_csv(_time_table(ledger), tables / "time_claims.csv"),
        "deviations": _write_csv(_deviation_table(study), tables / "deviations.csv"),
    }
    claims = []
    for claim in study.claims:
        rows = ledger[ledger["claim_id"] == claim.id]
        claims.append({
            "id": claim.id, "text": md_escape(claim.text), "source": md_escape(claim.source),
            "kind": claim.kind, "metric": code_span(claim.metric),
            "direction": "higher is better" if claim.higher_is_better else "lower is better",
            "tolerance": _tolerance_words(claim),
            "table": markdown_table(_claim_detail_table(rows)) if len(rows) else "",
            # Deviations naming this claim; those for all claims are listed once, below.
            "deviations": [md_escape(d.what) for d in study.deviations if claim.id in d.claims],
        })
    paper = study.paper
    return {
        "title": study.report.title or f"Reproducibility report: {paper.title}",
        "subtitle": f"{', '.join(paper.authors)} -- {paper.venue}",
        "study": study, "paper": paper, "summary_text": md_escape(study.summary),
        "verdict_summary": summary_paragraph(study, ledger),
        "counts_table": markdown_table(counts, f"Verdicts per level. Source: "
                                       f"`{sources['counts']}`.",
                                       ["l"] + ["r"] * (len(counts.columns) - 1)),
        "matrix_table": markdown_table(matrix_md, f"The verification matrix. Source: "
                                       f"`{sources['matrix']}`."),
        "figures": _draw_figures(ledger, samples, out),
        "claims": claims, "sources": sources,
        "unmeasured": _unmeasured_value_claims(ledger),
        "time_statement": time_statement(ledger, env),
        "time_table": markdown_table(_time_table(ledger), f"Time claims. Source: "
                                     f"`{sources['time']}`.")
        if (ledger["kind"] == "time").any() else "",
        "artifact_table": markdown_table(_artifact_table(artifacts), f"Artifacts used. "
                                         f"Source: `{sources['artifacts']}`.")
        if artifacts else "",
        "artifact_details": _artifact_details(artifacts),
        "hardware_table": markdown_table(_hardware_table(env), f"Declared and actual "
                                         f"hardware. Source: `{sources['hardware']}`.")
        if _hardware_rows(env) else "",
        "hardware_source": md_escape(study.hardware.source or ""),
        "software_table": markdown_table(_software_table(study, env), f"Software. Source: "
                                         f"`{sources['software']}`."),
        "system": _system_lines(env),
        "deviation_table": markdown_table(_deviation_table(study), f"Deviations from the "
                                          f"paper. Source: `{sources['deviations']}`.")
        if study.deviations else "",
        "rules": rules_markdown.strip(),
        "levels_text": ", ".join(lv for lv in LEVELS if lv in set(ledger["level"])),
    }


def _unmeasured_value_claims(ledger: pd.DataFrame) -> list[str]:
    """Value claims with no measured mean at any level (left out of the drift figures)."""
    values = ledger[ledger["kind"] == "value"]
    shown = set(figures.value_rows(ledger)["claim_id"])
    return [c for c in dict.fromkeys(values["claim_id"]) if c not in shown]


def _flatten(value: Any) -> Any:
    """Nested artifact fields (source, distribution, tried) as JSON text in the CSV."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def _tolerance_words(claim) -> str:
    if claim.tolerance is None:
        return DASH
    parts = []
    if claim.tolerance.absolute is not None:
        parts.append(f"±{claim.tolerance.absolute:g} absolute")
    if claim.tolerance.relative is not None:
        parts.append(f"±{claim.tolerance.relative * 100:g}% relative")
    joined = " or ".join(parts)
    return joined + (" (the wider applies)" if len(parts) > 1 else "")


# --------------------------------------------------------------------------- cost, badges
def _hours(value: Any) -> str:
    """Hours with three significant digits (a dash when nothing was measured)."""
    return DASH if is_missing(value) else f"{float(value):.3g}"


def _minutes(hours: Any) -> str:
    """The same time in minutes, for prose about short studies."""
    return DASH if is_missing(hours) else f"{float(hours) * 60:.3g}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _actual_hardware(env: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [("CPU", env.get("cpu")), ("cores", env.get("cores")),
             ("memory", env.get("memory")), ("GPU", env.get("gpu") or "none")]
    return [(k, str(v)) for k, v in pairs if not is_missing(v)]


def _cost_context(study: Study, runs: list[dict[str, Any]], env: dict[str, Any],
                  benchmarks: str | Path | None, out: Path) -> dict[str, Any]:
    """The "Computational requirements" section: cost per claim and in all, next to the
    paper's declared hardware. Costs come from :mod:`replikit.evaluate.cost`."""
    tables = out / "tables"
    per_run = cost.run_costs(runs, benchmarks)
    per_experiment = cost.experiment_costs(per_run)
    per_claim = cost.claim_costs(study, per_run)
    total = cost.study_total(per_run)
    _write_csv(per_run, tables / "cost_runs.csv")
    source_exp = _write_csv(per_experiment, tables / "cost_experiments.csv")
    source_claim = _write_csv(per_claim, tables / "cost_claims.csv")
    source_total = _write_csv(pd.DataFrame([total]), tables / "cost_total.csv")
    shown = pd.DataFrame({
        "claim": [code_span(c) for c in per_claim["claim_id"]],
        "runs": per_claim["runs"],
        "CPU-hours": [_hours(v) for v in per_claim["cpu_hours"]],
        "GPU-hours": [_hours(v) for v in per_claim["gpu_hours"]],
        "peak memory (MiB)": [fmt_number(v, 0) for v in per_claim["peak_rss_mb"]],
    })
    experiments = pd.DataFrame({
        "experiment": [code_span(e) for e in per_experiment["experiment"]],
        "runs": per_experiment["runs"],
        "wall (s)": [fmt_number(v, 1) for v in per_experiment["wall_s"]],
        "CPU (s)": [fmt_number(v, 1) for v in per_experiment["cpu_s"]],
        "GPU (s)": [fmt_number(v, 1) for v in per_experiment["gpu_s"]],
        "peak memory (MiB)": [fmt_number(v, 0) for v in per_experiment["peak_rss_mb"]],
        "peak GPU memory (MiB)": [fmt_number(v, 0) for v in per_experiment["peak_gpu_mb"]],
    })
    if not total["gpu_runs"]:
        # A CPU-only study: columns of zeros would only hide the numbers that matter.
        shown = shown.drop(columns=["GPU-hours"])
        experiments = experiments.drop(columns=["GPU (s)", "peak GPU memory (MiB)"])
    declared = dict(cost.declared_hardware(study))
    actual = dict(_actual_hardware(env))
    items = list(dict.fromkeys([*declared, *actual]))
    hardware = pd.DataFrame({"": items, "the paper": [declared.get(i, "not stated") for i in items],
                             "this study": [actual.get(i, DASH) for i in items]})
    return {
        "cost_total": {k: (_hours(v) if k.endswith("hours") else v) for k, v in total.items()},
        "cost_total_minutes": {k: _minutes(v) for k, v in total.items() if k.endswith("hours")},
        "cost_total_peak": fmt_number(total["peak_rss_mb"], 0),
        "cost_total_gpu_peak": fmt_number(total["peak_gpu_mb"], 0),
        "cost_total_source": source_total,
        "cost_hardware_table": markdown_table(hardware, "Hardware: as the paper declares it "
                                              "and as used here. Sources: `study.yaml`, "
                                              "`env.json`."),
        "cost_claim_table": markdown_table(shown, f"Compute cost per claim. Source: "
                                           f"`{source_claim}`.",
                                           ["l"] + ["r"] * (len(shown.columns) - 1))
        if len(per_claim) else "",
        "cost_experiment_table": markdown_table(experiments, f"Compute cost per experiment "
                                                f"(all seeds). Source: `{source_exp}`.",
                                                ["l"] + ["r"] * (len(experiments.columns) - 1))
        if len(per_experiment) else "",
    }


def _completeness_context(artifacts: list[dict[str, Any]], ledger: pd.DataFrame,
                          out: Path) -> dict[str, Any]:
    """The code-completeness checklist of the original code and the ACM badges."""
    tables = out / "tables"
    checklist = code_check.completeness_table(artifacts)
    badges = code_check.acm_badges(artifacts, checklist, ledger)
    source_check = _write_csv(checklist, tables / "code_completeness.csv")
    source_badges = _write_csv(code_check.badge_table(badges), tables / "acm_badges.csv")
    shown = pd.DataFrame({
        "artifact": [code_span(a) for a in checklist["artifact"]], "item": checklist["item"],
        "status": checklist["status"], "why": checklist["reason"],
        "evidence": [Raw(", ".join(f"`{e}`" for e in str(v).split("; "))) if v else DASH
                     for v in checklist["evidence"]],
    })
    return {
        "completeness_table": markdown_table(shown, f"Code completeness of the original "
                                             f"artifacts. Source: `{source_check}`.")
        if len(checklist) else "",
        "badges": [{"badge": b.badge, "awarded": "awarded" if b.awarded else "not awarded",
                    "rule": md_escape(b.rule), "reason": md_escape(_sentence(b.reason))}
                   for b in badges],
        "badges_source": source_badges,
    }


def write_report_from_results(
    study: Study, results_dir: str | Path, rules_markdown: str, out_dir: str | Path,
    *, communication: str = "",
) -> Path:
    """:func:`write_report_source` reading everything from ``results/<study>/``."""
    results = Path(results_dir)
    env_path = results / "env.json"
    # The workflow keeps benchmarks beside results: <root>/benchmarks/<study>.
    benchmarks = results.parent.parent / "benchmarks" / results.name
    return write_report_source(
        study, results / "claims.csv", results / "runs", results / "artifacts",
        env_path if env_path.exists() else None, rules_markdown, out_dir,
        benchmarks if benchmarks.is_dir() else None,
        communication=communication,
    )


__all__ = [
    "load_artifacts", "load_ledger", "load_runs", "measurement_samples", "summary_paragraph",
    "time_statement", "verdict_counts", "write_report_from_results", "write_report_source",
]
