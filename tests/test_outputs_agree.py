"""Every output states the same counts and totals: the report (source and HTML), its claims
detail, the MLRC draft, the letter, ``replikit status`` and the Zotero note.

Each output is written from a results folder the way the workflow and the commands write
it, and the numbers are parsed back from the written text, never taken from the object. The
folder is shaped like each shipped study: Surprise (66 claims, 114 checks, CPU only),
BERT4Rec (GPU runs, and original-code runs that could not run for want of a GPU) and the
tabular EBM study (an experiment no claim uses, runs whose Snakemake benchmark measured more
than the run record, which is where the draft and the report used to disagree).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from _report_helpers import RULES, build_results

from replikit.cli.status import print_status
from replikit.publish.letter import write_letter
from replikit.publish.mlrc import write_mlrc_draft
from replikit.publish.render import render
from replikit.publish.report import write_report_from_results
from replikit.publish.zotero_note import study_note
from replikit.results import Results, report_date
from replikit.study.contacts import load_contacts
from replikit.vocabulary import VERDICTS

WHEN = report_date(configured="2026-11-22")
CONTACTS = """\
schema_version: 1
study: fakestudy
authors:
  - {name: A. Author, role: corresponding author, email: a@example.org}
messages: []
"""
BENCHMARK_HEAD = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"


def _record(results: Path, record: dict) -> None:
    path = results / "runs" / record["experiment"] / f"seed={record['seed']}" / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")


def _benchmark(root: Path, experiment: str, seed: int, wall: float, rss: float,
               cpu: float) -> None:
    path = root / "benchmarks" / "fakestudy" / "runs" / experiment / f"seed={seed}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{BENCHMARK_HEAD}\n{wall}\t0:00:{int(wall):02d}\t{rss}\tNA\tNA\tNA\tNA\t"
                    f"NA\tNA\t{cpu}\n", encoding="utf-8")


def _not_run(experiment: str, seed: int, kind: str, name: str, detail: str) -> dict:
    cause = {"kind": kind, "name": name, "detail": detail}
    return {"study": "fakestudy", "experiment": experiment, "seed": seed,
            "status": "not-run", "reason": detail, "causes": [cause], "metrics": {}}


def _shaped(root: Path, shape: str) -> dict:
    """Results folders shaped like the three studies (see the module's docstring)."""
    made = build_results(root, {"surprise": 22, "bert4rec": 2, "ebm": 3}[shape])
    results = made["results"]
    # A whole environment's freeze, as env.json records it: the report lists what the
    # experiments import and leaves the rest to tables/software-freeze.csv.
    env = {**made["env"], "packages": {**{f"pkg{i:03d}": "1.0" for i in range(150)},
                                       **made["env"]["packages"]}}
    (results / "env.json").write_text(json.dumps(env), encoding="utf-8")
    if shape == "bert4rec":
        for seed in (0, 1, 2):
            _record(results, _not_run("bert4rec-original", seed, "needs-gpu", "1 GPU(s)",
                                      "0 available on this machine"))
        for record in made["runs"]:
            if record["experiment"].startswith("seeds-"):
                record.update(device="cuda", gpu_s=41.5, peak_gpu_mb=2210.0)
                _record(results, record)
    if shape == "ebm":
        _record(results, {**made["runs"][0], "experiment": "ebm-extra", "seed": 0})
        for record in made["runs"][:4]:
            _benchmark(root, record["experiment"], record["seed"], 30.0, 581.0, 48.0)
    return made


def _words(text: str) -> str:
    return " ".join(text.split())


COST = re.compile(r"(\d+) experiments?, (\d+) runs? completed"
                  r"(?: \((\d+) more could not run\))?; "
                  r"([\d.e+-]+) CPU-hours, ([\d.e+-]+) GPU-hours, ([\d.e+-]+) hours of wall "
                  r"time; largest peak memory of one run ([\d,]+) MiB")
VERDICT_LINE = re.compile(r"(\d+) checks? of (\d+) claims?: ([a-z ,0-9]+)\.")


def _stated(text: str) -> dict:
    """The counts and totals one output states, parsed from its text."""
    text = _words(html.unescape(text)).replace("\\", "")
    cost = COST.search(text)
    line = VERDICT_LINE.search(text)
    assert cost and line, f"no cost or verdict sentence in: {text[:400]}"
    verdicts = {}
    for part in line.group(3).split(", "):
        count, verdict = part.split(" ", 1)
        verdicts[verdict] = int(count)
    return {"experiments": int(cost[1]), "runs": int(cost[2]), "not_run": int(cost[3] or 0),
            "cpu_hours": cost[4], "gpu_hours": cost[5], "wall_hours": cost[6],
            "peak_mib": cost[7], "checks": int(line[1]), "claims": int(line[2]),
            "verdicts": verdicts}


def _outputs(root: Path, made: dict, capsys, html_too: bool) -> dict[str, str]:
    study, results = made["study"], made["results"]
    out = root / "reports" / "fakestudy"
    qmd = write_report_from_results(study, results, RULES, out)
    texts = {"report": qmd.read_text(encoding="utf-8"),
             "claims detail": (out / "claims-detail.qmd").read_text(encoding="utf-8")}
    if html_too:
        texts["report html"] = render(qmd, ["html"], engine="pandoc")["html"].read_text()
    read = Results.from_dir(results, when=WHEN)
    tex = write_mlrc_draft(study, read, out / "figures", out / "mlrc", rules_markdown=RULES)
    texts["mlrc"] = tex.read_text(encoding="utf-8")
    contacts_file = root / "contacts.yaml"
    contacts_file.write_text(CONTACTS, encoding="utf-8")
    pdf = out / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    _, txt = write_letter(study, load_contacts(contacts_file, [c.id for c in study.claims]),
                          results / "claims.csv", pdf, out / "letter",
                          today=dt.date(2026, 11, 22))
    texts["letter"] = txt.read_text(encoding="utf-8")
    capsys.readouterr()
    print_status("fakestudy", root / "results")
    texts["status"] = capsys.readouterr().out
    texts["zotero note"] = study_note("fakestudy", study.paper.title, results / "claims.csv",
                                      None, dt.date(2026, 11, 22)).html
    return texts


@pytest.mark.parametrize("shape", ["surprise", "bert4rec", "ebm"])
def test_every_output_states_the_same_counts_and_totals(tmp_path, capsys, shape):
    made = _shaped(tmp_path, shape)
    texts = _outputs(tmp_path, made, capsys, html_too=shape == "ebm")
    stated = {name: _stated(text) for name, text in texts.items()}
    first = stated["report"]
    for name, said in stated.items():
        assert said == first, f"{name} disagrees with the report"

    # The same numbers, counted independently in tables the outputs print.
    ledger = made["ledger"]
    assert first["verdicts"] == {v: n for v, n in Counter(ledger["verdict"]).items()}
    assert first["checks"] == len(ledger) and first["claims"] == ledger["claim_id"].nunique()
    note_rows = re.findall(r"<tr>(?:<td>.*?</td>){7}<td>(.*?)</td></tr>", texts["zotero note"])
    assert Counter(html.unescape(v) for v in note_rows) == Counter(first["verdicts"])
    all_levels = re.search(r"\| all levels \|([^\n]*)", texts["report"])[1]
    counts = [int(c) for c in all_levels.strip(" |").split("|")]
    assert counts[:-1] == [first["verdicts"].get(v, 0) for v in VERDICTS]
    assert counts[-1] == first["checks"]
    experiment_rows = re.findall(r"^\| `[^`]+` \| \d+ \|", texts["claims detail"].split(
        "Compute cost per experiment")[0].split("Compute cost per claim")[-1], re.M)
    assert len(experiment_rows) == first["experiments"]
    mlrc_rows = re.findall(r"\d+ of \d+ &", texts["mlrc"])
    assert len(mlrc_rows) == first["experiments"]

    assert first["claims"] == {"surprise": 66, "bert4rec": 6, "ebm": 9}[shape]
    software = texts["report"].split("## Environment")[1].split("\n## ")[0]
    assert "pkg000" not in software and "`scikit-surprise`" in software
    if shape == "bert4rec":
        assert first["not_run"] == 3 and first["gpu_hours"] != "0"
    if shape == "ebm":
        # The benchmark's 48 CPU-seconds (not the record's 10.5) count for four runs.
        runs = len(made["runs"]) + 1
        assert float(first["cpu_hours"]) == pytest.approx(
            (4 * 48.0 + (runs - 4) * 10.5) / 3600, rel=1e-2)
        assert first["peak_mib"] == "581" and first["experiments"] == 10
