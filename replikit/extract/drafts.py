"""Drafts beyond the printed numbers: protocol, relation claims, and one experiment per method.

:func:`add_context` fills each claim's ``protocol`` from its table's text and adds the
relation claims that text states (:mod:`.context`), one per data set on which the table has
both methods, each declared "not run" until an experiment is named. :func:`draft_experiments`
turns the methods of a table whose corner names its axes into experiments, one per method
and data set, each run by a runner function named after its method, and names them at the
claims' levels; :func:`runner_stubs` writes those functions for the user to fill in.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from replikit.extract.candidates import NO_EXPERIMENT_YET, VALUE_TOLERANCE_UNITS, slug
from replikit.extract.context import Relation, Setup, read_relations, read_setup

DEFAULT_SEEDS = 3
RATIO_TOLERANCE = {"relative": 0.3}  # times depend on the machine: a ratio of times less so
NOT_WRITTEN = "the runner {name} is not written yet: write it in runner.py"


def add_context(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries with their table's protocol, then the relation claims its text states."""
    out = list(entries)
    for context, group in _by_context(entries):
        setup = read_setup(context)
        for entry in group:
            entry["setup"] = setup
            if setup.protocol and (entry["method"] or entry["dataset"]):
                entry["claim"] = _with_protocol(entry["claim"], setup.protocol)
                entry["comments"].append(setup.said[-1])
        methods = list(dict.fromkeys(e["method"] for e in group if e["method"]))
        taken = {e["claim"]["id"] for e in out}
        for relation in read_relations(context, methods):
            for made in _relation_entries(relation, group, setup):
                if made["claim"]["id"] not in taken:
                    taken.add(made["claim"]["id"])
                    out.append(made)
    return out


def _by_context(entries: list[dict[str, Any]]) -> list[tuple[list[str], list[dict[str, Any]]]]:
    """Entries grouped by their table's paragraphs (one list object per section)."""
    groups: dict[int, tuple[list[str], list[dict[str, Any]]]] = {}
    for entry in entries:
        context = entry.get("context") or []
        groups.setdefault(id(context), (context, []))[1].append(entry)
    return [g for g in groups.values() if g[0]]


def _with_protocol(claim: dict[str, Any], protocol: str) -> dict[str, Any]:
    """The claim with ``protocol`` right after its data set (the manifest's order)."""
    out = {}
    for key, value in claim.items():
        out[key] = value
        if key == "dataset":
            out["protocol"] = protocol
    return out if "protocol" in out else {**claim, "protocol": protocol}


def _relation_entries(relation: Relation, group: list[dict[str, Any]],
                      setup: Setup) -> list[dict[str, Any]]:
    """One claim of the relation per data set on which the table has both methods."""
    cells = {(e["method"], e["dataset"]): e for e in group if e["claim"].get("kind") != "time"}
    out = []
    for dataset in dict.fromkeys(e["dataset"] for e in group):
        a, b = cells.get((relation.a, dataset)), cells.get((relation.b, dataset))
        if a is None or b is None:
            continue
        claim, rule = _relation_claim(relation, a["claim"], b["claim"], a, b)
        where = a["claim"]["source"].split(", ")[0]
        head = {"id": "-".join(slug(p) for p in (relation.a, relation.kind, relation.b,
                                                 dataset or "") if p),
                "text": relation.sentence, "source": f"{where}, the text around the table",
                "kind": relation.kind}
        if dataset:
            head["dataset"] = dataset
        if setup.protocol:
            head["protocol"] = setup.protocol
        claim = {**head, **claim}
        claim["levels"] = {"re-run": {"not_run": NO_EXPERIMENT_YET}}
        out.append({"claim": claim, "method": None, "dataset": dataset, "spread": None,
                    "setup": setup, "pair": (relation.a, relation.b),
                    "comments": [f"drafted from the sentence {relation.sentence!r}: confirm "
                                 f"that it claims a {relation.kind} of {relation.a} and "
                                 f"{relation.b}", rule]})
    return out


def _relation_claim(relation: Relation, a: dict[str, Any], b: dict[str, Any],
                    a_entry: dict[str, Any], b_entry: dict[str, Any]
                    ) -> tuple[dict[str, Any], str]:
    """The kind's fields, and the rule behind the number drafted (margin, tolerance)."""
    if relation.kind == "ratio":
        return ({"metric": "time_s", "reported": relation.factor,
                 "higher_is_better": False, "tolerance": dict(RATIO_TOLERANCE)},
                f"ratio: {relation.a}'s time over {relation.b}'s; the runners must return "
                "time_s; tolerance: 30 % of the ratio, as times depend on the machine")
    if relation.kind == "comparison":
        return ({"metric": a["metric"], "higher_is_better": a["higher_is_better"]},
                f"comparison: {relation.a} beats {relation.b} on {a['metric']}")
    spreads = [s for s in (a_entry["spread"], b_entry["spread"]) if s]
    if spreads:
        margin = max(spreads)
        rule = f"margin: the larger printed ± of the two cells ({margin}): a and b within " \
               "the paper's own spread"
    else:
        margin = float(Decimal(VALUE_TOLERANCE_UNITS).scaleb(-(a.get("decimals") or 0)))
        rule = f"margin: {VALUE_TOLERANCE_UNITS} units of the last printed digit (no ± printed)"
    return {"metric": a["metric"], "margin": margin}, rule


# --------------------------------------------------------------------------- experiments
def runner_name(method: str) -> str:
    """The runner function of a method: ``XGBoost`` -> ``run_xgboost`` (the prefix keeps it
    from hiding the library of the same name that the runner imports)."""
    return "run_" + (re.sub(r"[^a-z0-9]+", "_", method.lower()).strip("_") or "method")


def experiment_name(method: str, dataset: str | None, several: bool) -> str:
    return f"{slug(method)}-{slug(dataset)}" if dataset and several else slug(method)


def draft_experiments(entries: list[dict[str, Any]], needs: list[str]
                      ) -> dict[str, dict[str, Any]]:
    """One experiment per method and data set, named at the claims' re-run levels.

    Only entries with a method take part (tables whose corner names their axes); the
    others keep their "not run" level. Returns the ``experiments`` mapping.
    """
    cells = [e for e in entries if e["method"]]
    several = len({e["dataset"] for e in cells}) > 1
    experiments: dict[str, dict[str, Any]] = {}
    for entry in cells:
        name = experiment_name(entry["method"], entry["dataset"], several)
        if name not in experiments:
            experiments[name] = _experiment(entry, needs)
        entry["claim"]["levels"] = {"re-run": name}
    for entry in entries:
        if "pair" in entry:
            a, b = (experiment_name(m, entry["dataset"], several) for m in entry["pair"])
            if a in experiments and b in experiments:
                entry["claim"]["levels"] = {"re-run": {"a": a, "b": b}}
    return experiments


def _experiment(entry: dict[str, Any], needs: list[str]) -> dict[str, Any]:
    setup: Setup = entry.get("setup") or Setup()
    seeds = setup.seeds or DEFAULT_SEEDS
    said = "; ".join(setup.said) or f"{DEFAULT_SEEDS} seeds, as the text states none: check"
    experiment: dict[str, Any] = {
        "description": f"{entry['method']} as the paper's code runs it ({said})",
        "implementation": "original", "runner": f"runner.py:{runner_name(entry['method'])}",
        "params": {"dataset": entry["dataset"]} if entry["dataset"] else {},
        "needs": list(needs), "seeds": seeds}
    if entry["dataset"]:
        experiment["dataset"] = entry["dataset"]
    if setup.protocol:
        experiment["protocol"] = setup.protocol
    return experiment


def runner_stubs(entries: list[dict[str, Any]], study: str) -> str:
    """``runner.py``: one function per method, raising NotRunnable until it is written."""
    methods: dict[str, dict[str, set[str]]] = {}
    for entry in entries:
        for method in [entry["method"]] if entry["method"] else list(entry.get("pair") or []):
            found = methods.setdefault(method, {"metrics": set(), "datasets": set()})
            found["metrics"].add(entry["claim"]["metric"])
            if entry["dataset"]:
                found["datasets"].add(entry["dataset"])
    parts = [f'"""Runners of the {study} study, one per method of the paper\'s table '
             "(drafted by\n`replikit new --from`; the runner contract: "
             'docs/writing-a-study.md).\n\nEach takes a RunContext (ctx.params, ctx.seed, '
             "ctx.artifact(name) -> Path) and\nreturns {\"metrics\": {...}}. Take every random "
             'number from ctx.seed.\n"""\n\nfrom replikit.run import NotRunnable\n']
    for method, found in methods.items():
        name = runner_name(method)
        metrics = ", ".join(f'"{m}": ...' for m in sorted(found["metrics"]))
        datasets = ", ".join(sorted(found["datasets"])) or "the paper's data"
        parts.append(f'\n\ndef {name}(ctx):\n    """{method} on ctx.params["dataset"] '
                     f"({datasets}) with seed ctx.seed.\n\n    Returns "
                     f'{{"metrics": {{{metrics}}}}}.\n    """\n'
                     f"    raise NotRunnable({NOT_WRITTEN.format(name=name)!r})\n")
    return "".join(parts)
