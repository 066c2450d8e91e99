"""The source kinds of an artifact: where its bytes come from (url, git, pypi, path).

Each kind is one pydantic model; :data:`Source` is their tagged union, and
:data:`SOURCE_KINDS` maps each YAML key to its model (the one list of kinds).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import Discriminator, Field, Tag, field_validator

from replikit.study.base import SHA256, Strict


class _Source(Strict):
    member: str | None = Field(
        None, description="Path of one file inside the fetched archive or distribution"
    )
    strip_header: int = Field(
        0, ge=0, description="Number of leading lines to drop from the member (e.g. a header)"
    )


class UrlSource(_Source):
    """A file at a URL (http, https, or pooch's ``doi:`` form), downloaded through pooch."""

    url: str = Field(description="http(s):// URL or doi:<doi>/<file name>")
    download_sha256: SHA256 | None = Field(
        None, description="sha256 of the downloaded file itself, when it is an archive"
    )

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not re.match(r"^(https?://|doi:)", value):
            raise ValueError(f"a URL starting with http://, https:// or doi:, got {value!r}")
        path = value if value.startswith("doi:") else urlparse(value).path
        if not PurePosixPath(path).name or path.endswith("/"):
            raise ValueError(f"a URL that ends in a file name (the download is saved under "
                             f"it), got {value!r}")
        return value


class GitSource(Strict):
    """A git repository at one full commit; the commit is verified after fetching."""

    git: str = Field(description="Clone URL of the repository")
    commit: str = Field(pattern=r"^[0-9a-f]{40}$", description="Full 40-hex commit id")


class PypiSource(_Source):
    """A pinned distribution from the Python package index, fetched with pip."""

    pypi: str = Field(description="Requirement pinned with ==, e.g. 'recbole==1.2.1'")
    install: bool = Field(
        False, description="Install the distribution into the artifact folder (for code)"
    )
    sdist: bool = Field(
        False, description="Fetch the source distribution, not a wheel (e.g. for its README)"
    )

    @field_validator("pypi")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$", value):
            raise ValueError(
                f"a requirement pinned to one version like 'name==1.2.3', got {value!r}"
            )
        return value


class PathSource(_Source):
    """A file in the study folder (relative) or anywhere on disk (absolute).

    A file outside the project is accepted, as a private data set on a shared disk must be:
    its sha256 pins its bytes like any other artifact's. But another machine will not have
    it, so checking the study warns (:func:`replikit.study.check.local_files_outside`), and
    records and reports name it by its file name only (:meth:`shown`), never by the folders
    of this machine.
    """

    path: str

    def local(self, study_dir: Path) -> Path:
        """The file on this machine: ``~`` expanded, a relative path from the study folder."""
        local = Path(self.path).expanduser()
        return local if local.is_absolute() else Path(study_dir) / local

    def shown(self) -> str:
        """The path as records and reports show it: as written when relative, else by its
        file name only.

        >>> PathSource(path="/home/ada/private/ratings.csv").shown()
        'ratings.csv (a local file outside the project)'
        >>> PathSource(path="data/ratings.csv").shown()
        'data/ratings.csv'
        """
        if self.path.startswith("~") or PurePosixPath(self.path).is_absolute():
            return f"{PurePosixPath(self.path).name} (a local file outside the project)"
        return self.path


SOURCE_KINDS: dict[str, type[Strict]] = {
    "url": UrlSource, "git": GitSource, "pypi": PypiSource, "path": PathSource,
}


def source_kind(value: Any) -> str | None:
    """The kind of a source: its key in YAML, or its class once validated.

    Examples
    --------
    >>> source_kind({"git": "https://example.org/r.git", "commit": "0" * 40})
    'git'
    >>> source_kind(PathSource(path="data.csv"))
    'path'
    """
    if isinstance(value, dict):
        return next((kind for kind in SOURCE_KINDS if kind in value), None)
    return next((kind for kind, model in SOURCE_KINDS.items() if type(value) is model), None)


Source = Annotated[
    Annotated[UrlSource, Tag("url")]
    | Annotated[GitSource, Tag("git")]
    | Annotated[PypiSource, Tag("pypi")]
    | Annotated[PathSource, Tag("path")],
    Discriminator(
        source_kind,
        custom_error_type="source_kind",
        custom_error_message="a source with one of the keys url, git, pypi or path",
    ),
]


