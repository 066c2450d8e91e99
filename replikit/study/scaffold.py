"""Start a study: ``studies/<name>/`` from the package's study templates."""

from __future__ import annotations

import json
import re
from pathlib import Path

from replikit import paths
from replikit.errors import ReplikitError
from replikit.fileio import write_text


def scaffold_study(name: str, root: Path, *, title: str, year: int) -> Path:
    """Render the templates of :func:`replikit.paths.templates` ``("study")`` into
    ``<root>/studies/<name>/``, filling in the name, title and year; return the folder.

    The templates are package data, so an installed replikit scaffolds from any folder.
    """
    import jinja2

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ReplikitError(
            "a study name is letters, digits, '.', '_' and '-'", found=repr(name),
            fix="choose a name like 'bert4rec' or 'resnet-cifar10'",
        )
    folder = root / paths.study_dir(name)
    if folder.exists():
        raise ReplikitError("the study exists already", where=str(folder),
                            fix="choose another name, or edit the existing study")
    templates = paths.templates("study")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    # A title may hold any character: written as a JSON string, which YAML reads back as is.
    env.filters["yaml_string"] = lambda text: json.dumps(str(text), ensure_ascii=False)
    folder.mkdir(parents=True)
    for template in sorted(p.name for p in templates.iterdir() if p.is_file()):
        text = env.get_template(template).render(name=name, title=title, year=year)
        write_text(folder / template, text)
    return folder
