"""Fuzzing validation: mutated manifests and contact logs give a ReplikitError or pass.

Hypothesis mutates the shipped surprise manifest and a contact log two ways: as data
(a value replaced by another type, a key dropped or added, a list emptied) and as text
(bytes replaced, lines cut or repeated). Validation must either accept the result or raise
a ReplikitError, never another exception, and each case must be quick.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replikit.errors import ReplikitError
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
    started = time.perf_counter()
    with contextlib.suppress(ReplikitError):
        check_study_files(name, root)
    assert time.perf_counter() - started < 2


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
