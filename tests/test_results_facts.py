"""The counts and totals every output states come from one place: ``Results.facts``."""

from __future__ import annotations

from _report_helpers import build_results

from replikit.results import Results


def test_facts_count_the_ledger_and_total_the_runs(tmp_path):
    made = build_results(tmp_path)
    ledger, runs = made["ledger"], made["runs"]
    facts = Results.in_memory(ledger, runs).facts
    assert facts.checks == len(ledger)
    assert facts.claims == ledger["claim_id"].nunique()
    for level, counts in facts.verdicts.items():
        rows = ledger[ledger["level"] == level]
        assert counts == rows["verdict"].value_counts().to_dict()
    assert sum(sum(c.values()) for c in facts.verdicts.values()) == len(ledger)
    ok = [r for r in runs if r.get("status", "ok") == "ok"]
    assert facts.runs == len(ok)
    assert facts.runs_not_run == len(runs) - len(ok)
    assert facts.experiments == len({r["experiment"] for r in runs})
    cpu = sum(float(r.get("cpu_s") or 0) + float(r.get("children_cpu_s") or 0) for r in ok)
    assert facts.cpu_hours == cpu / 3600
    peaks = [r["peak_rss_mb"] for r in ok if r.get("peak_rss_mb") is not None]
    assert facts.peak_memory_mib == (max(peaks) if peaks else None)


def test_facts_are_computed_once(tmp_path):
    made = build_results(tmp_path)
    results = Results.in_memory(made["ledger"], made["runs"])
    assert results.facts is results.facts
