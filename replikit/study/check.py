"""Check first, run second: every file of a study folder a person writes, checked at once.

``replikit validate`` and the workflow (``workflow/rules/common.smk``, before any job is
planned) call :func:`check_study_files`, so a typo in a contact log's date or a note saved
in Latin-1 is reported, with its line, before a run starts, not by the report rule at the
end (whose failure would cost the runs' time).
"""

from __future__ import annotations

import logging
from pathlib import Path

from replikit import paths, safe_yaml
from replikit.errors import ReplikitError
from replikit.study.contacts import load_contacts
from replikit.study.loading import load_study, study_path
from replikit.study.model import Study
from replikit.study.peers import peer_figures
from replikit.study.sources import PathSource

log = logging.getLogger(__name__)


def check_study_files(name: str | Path, root: str | Path = ".") -> Study:
    """Load the manifest, contact log, notes, lock file and peer figures; raise on any problem.

    Every file is checked and the problems of all of them are raised as one ReplikitError,
    so one run of ``replikit validate`` lists everything to fix.
    """
    study = load_study(name, root)
    folder = study_path(name, root).parent
    for warning in local_files_outside(study, root):
        log.warning("%s", warning)
    problems: list[ReplikitError] = []
    contacts = folder / paths.CONTACTS
    if contacts.exists():
        _collect(problems, load_contacts, contacts, [c.id for c in study.claims])
    for note in sorted((folder / "notes").glob("*.md")):
        _collect(problems, safe_yaml.read_text, note)
    lock = folder / paths.ARTIFACTS_LOCK
    if lock.exists():
        _collect(problems, safe_yaml.load_file, lock)
    _collect(problems, peer_figures, study)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ReplikitError(
            f"{len(problems)} files of the study {study.name!r} have problems",
            where=str(folder), found="\n" + "\n".join(str(p) for p in problems),
            fix="correct each file as its message says, then run 'replikit validate' again")
    return study


def local_files_outside(study: Study, root: str | Path = ".") -> list[str]:
    """A warning for each ``path`` source outside the project folder (e.g. ``/etc/hostname``).

    Such a file is accepted and hashed like any other artifact (its sha256 pins its bytes),
    but the study then runs only where that file is: say so before any run. Records and
    reports name it by its file name only (:meth:`replikit.study.PathSource.shown`).
    """
    project = Path(root).resolve()
    warnings = []
    for name, artifact in study.artifacts.items():
        for index, source in enumerate(artifact.sources):
            if not isinstance(source, PathSource):
                continue
            if source.local(study.dir).resolve().is_relative_to(project):
                continue
            warnings.append(
                f"warning: {study.dir / paths.MANIFEST}: artifacts.{name}.sources[{index}].path: "
                f"{source.path} lies outside the project; it is hashed like any other artifact "
                "and reports name it only by its file name, but another machine will not "
                "have it; fix: copy it into the study folder and give a relative path, or add "
                "a url or pypi source that others can fetch")
    return warnings


def check_profiles(root: str | Path = ".") -> list[Path]:
    """Parse every Snakemake profile (``profiles/*/*.yaml``) with the bounded loader."""
    checked = []
    for path in sorted(Path(root, "profiles").glob("*/*.yaml")):
        data, _ = safe_yaml.load_file(path)
        if data is not None and not isinstance(data, dict):
            raise ReplikitError("a Snakemake profile must be a mapping", where=str(path),
                                expected="keys such as cores, executor",
                                found=type(data).__name__)
        checked.append(path)
    return checked


def _collect(problems: list[ReplikitError], check, *args) -> None:
    try:
        check(*args)
    except ReplikitError as error:
        problems.append(error)
