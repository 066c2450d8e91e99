"""Fuzzing: mutated manifests and contact logs give a ReplikitError or pass; hostile text
renders in every output format.

Hypothesis mutates the shipped surprise manifest and a contact log two ways: as data
(a value replaced by another type, a key dropped or added, a list emptied) and as text
(bytes replaced, lines cut or repeated). Validation must either accept the result or raise
a ReplikitError, never another exception, and each case must be quick.

Then every free-text field a study, its contact log, its ledger, its artifact records and
its audit hand to the outputs is filled with hostile text (HTML, Markdown, Typst, LaTeX and
YAML syntax, control characters), and every output is rendered for real: the report as HTML
and PDF (pandoc's Typst writer, then typst), its claims detail as HTML, the MLRC draft as
LaTeX. Each must render, run no markup and keep BibTeX's braces balanced.
"""

from __future__ import annotations

import contextlib
import html.parser
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from _report_helpers import RULES, build_results, study_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replikit.errors import ReplikitError
from replikit.publish.exports import communication_markdown
from replikit.publish.mlrc import write_mlrc_draft
from replikit.publish.render import render
from replikit.publish.report import DETAIL, write_report_source
from replikit.results import Results, report_date
from replikit.study import Study
from replikit.study.check import check_study_files

REPO = Path(__file__).resolve().parent.parent
MANIFEST = (REPO / "studies" / "surprise" / "study.yaml").read_text(encoding="utf-8")
CONTACTS = """\
schema_version: 1
study: fuzz
authors:
- {name: Ada Example, email: ada@example.org}
messages:
- {id: m1, date: 2026-01-05, direction: sent, authors: [Ada Example], subject: s,
   summary: x, questions: [{id: q1, text: "why?", claims: []}]}
- {id: m2, date: 2026-01-09, direction: received, authors: [Ada Example], subject: re,
   summary: y, in_reply_to: m1, answers: [{question: q1, text: because}]}
"""
ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=True),
    st.text(max_size=12), st.lists(st.integers(-2, 3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.sampled_from(["2026-13-40", "nan", ".inf", "http://x/", "*a", "&a x", "{a: 1}"]))


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _paths(value, (*prefix, i))
    return found


def _mutate(data: Any, path: tuple, value: Any, action: str) -> Any:
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if action == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent[f"extra_{path[-1]}"] = value
    else:
        parent[path[-1]] = value
    return data


def _write(root: Path, name: str, manifest: str, contacts: str) -> str:
    folder = root / "studies" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(manifest, encoding="utf-8", errors="surrogatepass")
    (folder / "contacts.yaml").write_text(contacts, encoding="utf-8", errors="surrogatepass")
    return name


def _validate_quickly(root: Path, name: str) -> None:
    # CPU seconds, not wall time: the bound catches a blow-up (an expanding input), and a
    # loaded machine must not make it fail. A valid manifest checks in well under 0.5 s.
    started = time.process_time()
    with contextlib.suppress(ReplikitError):
        check_study_files(name, root)
    assert time.process_time() - started < 5


MANIFEST_DATA = yaml.safe_load(MANIFEST)
CONTACTS_DATA = yaml.safe_load(CONTACTS)
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FUZZ
@given(data=st.data(), target=st.sampled_from(["manifest", "contacts"]),
       action=st.sampled_from(["replace", "drop", "add"]), value=ODD_VALUES)
def test_mutated_data_is_an_error_or_valid(tmp_path_factory, data, target, action, value):
    root = tmp_path_factory.mktemp("fuzz")
    source = MANIFEST_DATA if target == "manifest" else CONTACTS_DATA
    tree = yaml.safe_load(yaml.safe_dump(source))
    path = data.draw(st.sampled_from(_paths(tree)))
    tree = _mutate(tree, path, value, action)
    text = yaml.safe_dump(tree, allow_unicode=True)
    manifest, contacts = (text, CONTACTS) if target == "manifest" else (MANIFEST, text)
    name = tree.get("name", "surprise") if isinstance(tree, dict) and target == "manifest" \
        else "surprise"
    name = name if isinstance(name, str) and name.isidentifier() else "surprise"
    _validate_quickly(root, _write(root, name, manifest, contacts.replace("fuzz", name)))


@FUZZ
@given(target=st.sampled_from(["manifest", "contacts"]), at=st.floats(0, 1),
       junk=st.text(max_size=8), cut=st.booleans())
def test_mutated_text_is_an_error_or_valid(tmp_path_factory, target, at, junk, cut):
    root = tmp_path_factory.mktemp("fuzz")
    text = MANIFEST if target == "manifest" else CONTACTS.replace("fuzz", "surprise")
    i = int(at * len(text))
    text = text[:i] + junk + ("" if cut else text[i + len(junk):])
    manifest, contacts = (text, CONTACTS) if target == "manifest" else (MANIFEST, text)
    _validate_quickly(root, _write(root, "surprise", manifest, contacts.replace("fuzz",
                                                                                "surprise")))


# --------------------------------------------------------------------------- hostile text
HOSTILE = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[@class='gr']",
           "@fig-x", "\\input{/etc/passwd}", "{", "}}", "$x$", "$5", "#set page(width: 1cm)",
           "#", "a|b", "`", "```", "---", "1. ", "- ", "::: note", "<!--", "%", "&amp;", "~",
           "^[n]", "_x_", "**", "\\", "\x00", "\x1b[31m", "\n", '"', "'", "= h", "<https://x>"]
FRAGMENT = st.one_of(st.sampled_from(HOSTILE),
                     st.text(alphabet="<>[]{}()@#$%^&*_|\\`~-+=:;'\"!/.\n", min_size=1,
                             max_size=6))
HOSTILE_TEXT = st.lists(FRAGMENT, min_size=1, max_size=4).map(lambda p: "x " + " ".join(p))
FIELDS = ("title", "venue", "author", "summary", "claim_text", "claim_source", "description",
          "artifact", "hardware_source", "deviation_what", "deviation_reason", "claims_source",
          "ledger_reason", "record_reason", "contact_summary", "question", "finding",
          "evidence")
RENDER = settings(max_examples=3, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow])


def _hostile_study(text: dict[str, str]) -> Study:
    data = study_dict(1)
    paper = data["paper"]
    paper.update(title=text["title"], venue=text["venue"], authors=[text["author"]],
                 claims_source=text["claims_source"])
    data["summary"] = text["summary"]
    for claim in data["claims"]:
        claim.update(text=text["claim_text"], source=text["claim_source"])
    for experiment in data["experiments"].values():
        experiment["description"] = text["description"]
    data["artifacts"]["ml-100k"]["description"] = text["artifact"]
    data["hardware"]["source"] = text["hardware_source"]
    data["deviations"][0].update(what=text["deviation_what"], reason=text["deviation_reason"])
    return Study.model_validate(data)


def _hostile_results(results: Path, text: dict[str, str]) -> dict[str, Any]:
    ledger = pd.read_csv(results / "claims.csv", dtype={"seeds": str})
    ledger["reason"] = text["ledger_reason"]
    ledger.to_csv(results / "claims.csv", index=False)
    record = results / "artifacts" / "ml-1m.json"
    record.write_text(json.dumps({**json.loads(record.read_text()),
                                  "reason": text["record_reason"]}))
    finding = {"category": "data", "check": "absolute-path", "message": text["finding"],
               "file": "train.py", "line": 3, "evidence": text["evidence"]}
    return {"status": "ok", "artifact": "ml-100k", "files": 1, "python_files": 1,
            "counts": {"data": 1}, "findings": [finding]}


def _contacts(text: dict[str, str]) -> str:
    return yaml.safe_dump({
        "schema_version": 1, "study": "fakestudy",
        "authors": [{"name": "A. Author", "email": "a@example.org"}],
        "messages": [{"id": "m1", "date": "2026-01-05", "direction": "sent",
                      "authors": ["A. Author"], "subject": "s",
                      "summary": text["contact_summary"],
                      "questions": [{"id": "q1", "text": text["question"], "claims": []}]}]})


class _Attributes(html.parser.HTMLParser):
    """Every attribute name in a document: an ``on...`` one would run script."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.names |= {name for name, _ in attrs}


def _runs_no_script(page: Path) -> None:
    parser = _Attributes()
    parser.feed(page.read_text(encoding="utf-8"))
    assert not {n for n in parser.names if n.startswith("on")}
    assert "<script>alert" not in page.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def fixture_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-render")
    build_results(root, 1)
    return root / "results" / "fakestudy"


@pytest.mark.slow  # three examples, each rendered in four formats: about a minute
@RENDER
@given(text=st.fixed_dictionaries({field: HOSTILE_TEXT for field in FIELDS}))
def test_hostile_text_renders_in_every_format(tmp_path_factory, fixture_results, text):
    root = tmp_path_factory.mktemp("render")
    results = root / "results" / "fakestudy"
    shutil.copytree(fixture_results, results)
    study = _hostile_study(text)
    audit = _hostile_results(results, text)
    contacts = root / "contacts.yaml"
    contacts.write_text(_contacts(text), encoding="utf-8")
    when = report_date(configured="2026-03-01")
    read = Results.from_dir(results, when=when, contacts_file=contacts, audit=audit)
    out = root / "reports" / "fakestudy"
    qmd = write_report_source(study, read, RULES, out,
                              communication=communication_markdown(study, contacts, when))
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "quarto").exists()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", os.pathsep.join(keep))
        rendered = render(qmd, ("html", "pdf"), engine="pandoc")
        detail = render(out / DETAIL, ("html",), engine="pandoc")["html"]
    tex = write_mlrc_draft(study, read, out / "figures", out / "mlrc", rules_markdown=RULES)
    assert rendered["pdf"].read_bytes().startswith(b"%PDF")
    _runs_no_script(rendered["html"])
    _runs_no_script(detail)
    latex = tex.read_text(encoding="utf-8").replace("\\usepackage[utf8]{inputenc}", "")
    assert "\\input{" not in latex and "\x00" not in latex
    bib = (out / "mlrc" / "references.bib").read_text(encoding="utf-8")
    assert bib.count("{") == bib.count("}")
