"""The study manifest: the shipped studies validate; bad input gets a precise error."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from replikit.errors import ReplikitError
from replikit.study import Study, json_schema, list_studies, load_study

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """\
schema_version: 1
name: tiny
summary: A tiny study.
paper: {title: T, authors: [A. Author], venue: V 2020, year: 2020}
hardware:
  declared: {cpu: some cpu}
artifacts:
  data: {description: d, path: data.tsv, sha256: %s}
experiments:
  exp: {description: e, implementation: reimplementation, runner: "run.py:main",
        needs: [data], seeds: 3}
claims:
  - id: c1
    text: the value is 1
    source: Table 1
    metric: m
    reported: 1.0
    tolerance: {absolute: 0.1}
    levels: {re-implement: exp}
""" % ("a" * 64)


def write_study(tmp_path: Path, text: str, name: str = "tiny") -> Path:
    folder = tmp_path / "studies" / name
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(text)
    return folder / "study.yaml"


def load_error(tmp_path: Path, text: str) -> str:
    write_study(tmp_path, text)
    with pytest.raises(ReplikitError) as info:
        load_study("tiny", root=tmp_path)
    return str(info.value)


@pytest.mark.parametrize("name", list_studies(ROOT))
def test_shipped_studies_validate(name):
    study = load_study(name, root=ROOT)
    assert study.name == name
    assert study.claims


def test_minimal_study_loads_and_expands_seed_count(tmp_path):
    write_study(tmp_path, MINIMAL)
    study = load_study("tiny", root=tmp_path)
    assert study.experiments["exp"].seeds == [0, 1, 2]
    assert study.dir == (tmp_path / "studies" / "tiny").resolve()


def test_shorthand_source_becomes_sources_list(tmp_path):
    write_study(tmp_path, MINIMAL)
    artifact = load_study("tiny", root=tmp_path).artifacts["data"]
    assert len(artifact.sources) == 1
    assert artifact.sources[0].path == "data.tsv"


def test_unknown_key_names_file_key_and_line(tmp_path):
    message = load_error(tmp_path, MINIMAL.replace("    metric: m", "    metrc: m"))
    assert "studies/tiny/study.yaml" in message
    assert "claims[0].metrc (line 16): unknown key" in message


def test_wrong_type_says_expected_and_found(tmp_path):
    message = load_error(tmp_path, MINIMAL.replace("reported: 1.0", "reported: high"))
    assert "claims[0].reported (line 17)" in message
    assert "found 'high'" in message


def test_reference_to_undeclared_experiment(tmp_path):
    message = load_error(tmp_path, MINIMAL.replace("re-implement: exp", "re-implement: nope"))
    assert "names experiment 'nope', which is not declared" in message


def test_reference_to_undeclared_artifact(tmp_path):
    message = load_error(tmp_path, MINIMAL.replace("needs: [data]", "needs: [dataa]"))
    assert "needs names artifact 'dataa'" in message


def test_unpinned_pypi_requirement_is_refused(tmp_path):
    text = MINIMAL.replace("path: data.tsv", "pypi: recbole>=1.0")
    assert "pinned to one version" in load_error(tmp_path, text)


def test_source_without_kind_is_refused(tmp_path):
    text = MINIMAL.replace(
        "{description: d, path: data.tsv, sha256: %s}" % ("a" * 64),
        "{description: d, sources: [{mirror: x}]}",
    )
    assert "one of the keys url, git, pypi or path" in load_error(tmp_path, text)


def test_short_git_commit_is_refused(tmp_path):
    text = MINIMAL.replace("path: data.tsv", "git: https://example.org/r.git, commit: abc123")
    assert "artifacts.data.sources[0].commit" in load_error(tmp_path, text)


def test_name_must_match_folder(tmp_path):
    assert "must match its folder" in load_error(tmp_path, MINIMAL.replace("name: tiny", "name: x"))


def test_invalid_yaml_is_reported_with_file(tmp_path):
    assert "is not valid YAML" in load_error(tmp_path, MINIMAL + "  - : : [\n")


def test_unknown_study_lists_known_ones(tmp_path):
    write_study(tmp_path, MINIMAL)
    with pytest.raises(ReplikitError, match=r"no study named 'other'[\s\S]*'tiny'"):
        load_study("other", root=tmp_path)


def test_value_claim_needs_tolerance(tmp_path):
    message = load_error(tmp_path, MINIMAL.replace("    tolerance: {absolute: 0.1}\n", ""))
    assert "needs 'reported' and 'tolerance'" in message


@pytest.mark.parametrize("levels", ["    levels: {re-implement: exp}\n", ""])
def test_claim_without_levels_is_refused(tmp_path, levels):
    text = MINIMAL.replace("    levels: {re-implement: exp}\n", levels.replace(
        "{re-implement: exp}", "{}"))
    message = load_error(tmp_path, text)
    assert "claims" in message and "a claim needs at least one level" in message


def test_json_schema_accepts_shipped_studies():
    schema = json_schema()
    json.dumps(schema)  # serialisable
    for name in list_studies(ROOT):
        data = yaml.safe_load((ROOT / "studies" / name / "study.yaml").read_text())
        jsonschema.validate(data, schema)


def test_json_schema_is_the_models_schema():
    assert json_schema()["properties"].keys() == Study.model_json_schema()["properties"].keys()
