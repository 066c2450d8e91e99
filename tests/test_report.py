"""Tests for replikit.publish.report: the report shows the ledger's numbers, traced."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from _report_helpers import RULES, build_results, study_dict

from replikit.errors import ReplikitError
from replikit.evaluate.claims_table import as_ledger, read_ledger
from replikit.evaluate.samples import measurement_samples
from replikit.publish import figures
from replikit.publish.report import (
    summary_paragraph,
    time_statement,
    verdict_counts,
    write_report_from_results,
    write_report_source,
)
from replikit.results import Results

SECTIONS = ["## The study", "## Verification matrix", "## Drift from the reported values",
            "### Seed variance", "## Time claims", "## Artifacts",
            "## Environment", "## Deviations from the paper", "## Verdict rules"]


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    root = tmp_path_factory.mktemp("fake")
    results = build_results(root, 1)
    out = root / "reports" / "fakestudy"
    qmd = write_report_from_results(results["study"], results["results"], RULES, out)
    return {**results, "qmd": qmd, "out": out, "text": qmd.read_text(encoding="utf-8"),
            "detail": (out / "claims-detail.qmd").read_text(encoding="utf-8")}


def _results(ledger, fake, **given):
    return Results.in_memory(ledger, fake["runs"], fake["artifacts"], fake["env"], **given)


def test_writes_source_config_figures_and_tables(fake):
    out = fake["out"]
    for name in ["report.qmd", "_quarto.yml", "style.css", "figures/matrix-1.png",
                 "figures/drift-1.png", "figures/seed-variance-1.png", "tables/ledger.csv",
                 "tables/verdict_counts.csv", "tables/verdict_matrix.csv",
                 "tables/measurements.csv", "tables/artifacts.csv", "tables/hardware.csv",
                 "tables/software.csv", "tables/time_claims.csv", "tables/deviations.csv"]:
        assert (out / name).is_file(), name
    assert "embed-resources: true" in (out / "_quarto.yml").read_text()


def test_every_section_is_present_in_order(fake):
    positions = [fake["text"].index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert '::: {.callout-note title="Findings"}' in fake["text"]
    # The per-claim detail lives in the companion document, so the report stays short.
    assert "## Claims in detail" not in fake["text"] and "`claims-detail.qmd`" in fake["text"]
    assert "## Claims in detail" in fake["detail"]
    assert "## Cost per claim and per experiment" in fake["detail"]


def test_every_referenced_file_exists(fake):
    referenced = set(re.findall(r"\]\((figures/[^)]+)\)", fake["text"]))
    referenced |= set(re.findall(r"`(tables/[\w.-]+\.csv)`", fake["text"]))
    assert {"figures/matrix-1.png", "figures/drift-1.png", "tables/ledger.csv"} <= referenced
    for name in referenced:
        assert (fake["out"] / name).is_file(), name


def test_rules_are_verbatim(fake):
    assert RULES.strip() in fake["text"]


def test_claim_detail_shows_the_ledger_numbers(fake):
    row = fake["ledger"].query("claim_id == '100k-svd-rmse' and level == 're-run'").iloc[0]
    text = fake["detail"]
    # decimals 3 in the paper -> measurements printed with 5
    assert f"{row['mean']:.5f} ± {row['sd']:.5f} (n = 5)" in text
    assert f"\\[{row['ci_low']:.5f}, {row['ci_high']:.5f}\\]" in text  # brackets escaped
    assert f"{row['drift_abs']:+.5f} ({row['drift_rel'] * 100:+.2f}%)" in text
    assert "SVD has RMSE 0.934 on MovieLens 100k" in text
    traced = pd.read_csv(fake["out"] / "tables" / "ledger.csv")
    assert traced["mean"].tolist() == pytest.approx(fake["ledger"]["mean"].tolist(),
                                                    nan_ok=True)


def test_report_copies_numbers_and_never_recomputes_them(fake, tmp_path):
    ledger = fake["ledger"].copy()
    rerun = (ledger["claim_id"] == "100k-svd-rmse") & (ledger["level"] == "re-run")
    ledger.loc[rerun, "mean"] = 0.5  # disagrees with the runs on purpose
    qmd = write_report_source(fake["study"], _results(ledger, fake), RULES, tmp_path / "r")
    assert "0.50000 ± " in (qmd.parent / "claims-detail.qmd").read_text()


def test_summary_counts_the_verdicts(fake):
    read = _results(fake["ledger"], fake)
    text = summary_paragraph(fake["study"], read)
    assert text.startswith("We checked 2 claims of *A benchmark of rating predictors*")
    assert "in 4 checks" in text
    assert "At the re-run level (2 checks): 1 reproduced, 1 inconclusive." in text
    assert "Of 1 time check, 0 are comparable" in text
    counts = verdict_counts(read).set_index("level")
    assert counts.loc["all levels", "checks"] == 4
    assert counts.loc["re-run", "reproduced"] == 1


def test_time_statement_names_the_hardware_difference(fake):
    text = time_statement(fake["ledger"], fake["env"])
    assert text.startswith("None of the time claims is comparable because the hardware")
    assert "declared intel i5 11th Gen 2.60GHz, actual AMD EPYC 7B13" in text
    assert "| no " in fake["text"] or "| no |" in fake["text"]


def test_artifacts_and_environment(fake):
    text = fake["text"]
    assert "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490" in text
    assert "pypi: recbole==1.2.1" in text
    assert "no source reachable offline" in text
    assert "| cpu | intel i5 11th Gen 2.60GHz | AMD EPYC 7B13 | no |" in text
    assert "| `scikit-surprise` | 1.1.2 | 1.1.5 |" in text
    assert "scikit-surprise 1.1.5 instead of 1.1.2" in text
    detail = fake["detail"][fake["detail"].index("### 100k-svd-time"):
                            fake["detail"].index("## Time claims")]
    assert "Deviations that apply to this claim: timed on a shared server, not a laptop." in \
        detail


def test_samples_are_per_fold_or_per_seed(fake):
    samples = measurement_samples(fake["ledger"], fake["runs"])
    rerun = samples[(samples["claim_id"] == "100k-svd-rmse") & (samples["level"] == "re-run")]
    assert rerun["fold"].tolist() == [0, 1, 2, 3, 4]
    seeds = samples[(samples["level"] == "generalize")]
    assert seeds["seed"].tolist() == [1, 2, 3, 4, 5]
    assert seeds["fold"].isna().all()
    assert set(samples["claim_id"]) == {"100k-svd-rmse"}  # time claims have no dots


def test_samples_follow_the_ledger_seeds(fake):
    ledger = fake["ledger"].copy()
    ledger.loc[ledger["level"] == "generalize", "seeds"] = "2;4"
    samples = measurement_samples(as_ledger(ledger), fake["runs"])
    assert samples[samples["level"] == "generalize"]["seed"].tolist() == [2, 4]


def test_output_is_deterministic(fake, tmp_path):
    again = write_report_from_results(fake["study"], fake["results"], RULES, tmp_path / "r")
    assert again.read_text() == fake["text"]
    for name in ["figures/matrix-1.png", "figures/drift-1.png", "tables/ledger.csv"]:
        assert (tmp_path / "r" / name).read_bytes() == (fake["out"] / name).read_bytes()


def test_markdown_special_characters_are_escaped(fake, tmp_path):
    data = study_dict(1)
    data["claims"][0]["text"] = "RMSE | MAE is $0.934 with *defaults* <5-fold>"
    study = type(fake["study"]).model_validate(data)
    qmd = write_report_source(study, _results(fake["ledger"], fake), RULES, tmp_path / "r")
    detail = (qmd.parent / "claims-detail.qmd").read_text()
    assert r"RMSE \| MAE is \$0.934 with \*defaults\* \<5-fold\>" in detail


def test_unknown_verdict_is_an_error(fake):
    bad = fake["ledger"].copy()
    bad.loc[0, "verdict"] = "sort of"
    with pytest.raises(ReplikitError, match=r"verdicts the report does not know[\s\S]*sort of"):
        as_ledger(bad)


def test_missing_ledger_file_and_columns_are_errors(fake, tmp_path):
    with pytest.raises(ReplikitError, match="claims ledger does not exist"):
        read_ledger(tmp_path / "claims.csv")
    with pytest.raises(ReplikitError, match=r"missing \['sd'\]"):
        as_ledger(fake["ledger"].drop(columns=["sd"]))


def test_claims_the_study_does_not_declare_are_an_error(fake, tmp_path):
    ledger = fake["ledger"].copy()
    ledger.loc[0, "claim_id"] = "stranger"
    with pytest.raises(ReplikitError, match="does not declare"):
        write_report_source(fake["study"], Results.in_memory(ledger), RULES, tmp_path / "r")


def test_missing_records_are_said_not_hidden(fake, tmp_path):
    qmd = write_report_source(fake["study"], Results.in_memory(fake["ledger"]), RULES,
                              tmp_path / "r")
    text = qmd.read_text()
    assert "No artifact records were found." in text
    assert "has no declared-versus-actual hardware table" in text


def test_figure_parts_of_an_earlier_longer_report_are_removed(fake, tmp_path):
    out = tmp_path / "r"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "matrix-3.png").write_bytes(b"old")
    (out / "figures" / "photo.png").write_bytes(b"kept")
    write_report_source(fake["study"], _results(fake["ledger"], fake), RULES, out)
    assert not (out / "figures" / "matrix-3.png").exists()
    assert (out / "figures" / "photo.png").exists()
    assert (out / "figures" / "matrix-1.png").exists()


def test_value_claims_measured_nowhere_are_named_not_drawn(fake, tmp_path):
    ledger = fake["ledger"].copy()
    ledger.loc[ledger["claim_id"] == "100k-svd-rmse", ["mean", "sd", "ci_low", "ci_high"]] = None
    ledger.loc[ledger["claim_id"] == "100k-svd-rmse", "verdict"] = "not run"
    qmd = write_report_source(fake["study"], _results(ledger, fake), RULES, tmp_path / "r")
    text = " ".join(qmd.read_text().split())
    assert ("1 value claim has no measured value comparable with the reported one" in text
            and "and is not drawn: `100k-svd-rmse`." in text)


def test_values_measured_on_other_data_are_not_drawn_as_drift(fake, tmp_path):
    ledger = fake["ledger"].copy()
    ledger.loc[ledger["claim_id"] == "100k-svd-rmse", "verdict"] = "not comparable"
    assert figures.value_rows(ledger).empty  # the fake study's only value claim
    qmd = write_report_source(fake["study"], _results(ledger, fake), RULES, tmp_path / "r")
    assert "and is not drawn: `100k-svd-rmse`." in " ".join(qmd.read_text().split())


def test_not_run_causes_are_counted_once_per_check_not_per_experiment():
    from replikit.publish.report.summary import not_run_causes

    def artifact(name, detail):
        return {"kind": "artifact-unavailable", "name": name, "detail": detail}

    gpu = {"kind": "needs-gpu", "name": "1 GPU(s)", "detail": "0 available on this machine"}
    rows = pd.DataFrame({"claim_id": ["c1", "c2", "c3", "c4"],
                         "reason": ["a ...", "b ...", "c ...", "something else entirely"],
                         "causes": [[artifact("d", "offline?")],
                                    [artifact("d", "offline?"), artifact("d", "offline?")],
                                    [artifact("code", "no clone"), gpu], []]})
    assert not_run_causes(rows) == [
        ("artifact 'd' is unavailable (offline?)", 2, ["c1", "c2"]),
        ("artifact 'code' is unavailable (no clone)", 1, ["c3"]),
        ("needs 1 GPU(s) (declared in its resources)", 1, ["c3"]),
        ("something else entirely", 1, ["c4"]),
    ]


def test_not_run_causes_reach_the_summary_from_the_run_records(fake, tmp_path):
    """A "not run" record's structured causes travel through the ledger to the summary."""
    from replikit.evaluate.claims_table import write_ledger
    from replikit.evaluate.ledger import build_ledger
    from replikit.run.harness import cause, cause_text

    lost = cause("artifact-unavailable", "ml-100k", "no source reachable offline")
    records = [{"experiment": name, "seed": seed, "status": "not-run", "metrics": {},
                "reason": cause_text(lost), "causes": [lost]}
               for name, spec in fake["study"].experiments.items() for seed in spec.seeds]
    ledger = build_ledger(fake["study"], records, hardware_comparable=False)
    back = read_ledger(write_ledger(ledger, tmp_path / "claims.csv"))
    assert back["causes"].tolist() == [[lost]] * len(back)
    text = summary_paragraph(fake["study"], Results.in_memory(back, records))
    assert (f"{len(back)} checks could not run: {len(back)} because artifact 'ml-100k' is "
            "unavailable (no source reachable offline).") in text
