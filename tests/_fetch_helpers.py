"""Fixtures for the artifact tests: a local HTTP server, a tiny wheel and index, a git repo.

Everything is served from 127.0.0.1 and built by the tests themselves, so the real clients
(pooch, pip, git) run offline.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import os
import socket
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from replikit.study import Study, load_study

RATINGS = b"".join(f"{u}\t{i}\t{(u * i) % 5 + 1}\t88125{u}{i}\n".encode()
                   for u in range(1, 30) for i in range(1, 20))
HEADER = b"user_id:token\titem_id:token\trating:float\ttimestamp:float\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    return sha256(Path(path).read_bytes())


@dataclass
class Server:
    """A threading HTTP server on 127.0.0.1 serving ``root``, logging each request path."""

    root: Path
    requests: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def put(self, path: str, data: bytes) -> str:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.split("?")[0] == "/" + path.lstrip("/"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """Serve ``tmp_path/www`` over HTTP on a free port for the test's duration."""
    state = Server(tmp_path / "www")
    state.root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(state.root), **kwargs)

        def do_GET(self) -> None:  # noqa: N802 - the base class's name
            if self.path.startswith("/truncated/"):
                # Promise a large body, send a little, hang up: an interrupted download.
                self.send_response(200)
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                self.wfile.write(b"x" * 1000)
                self.close_connection = True
                return
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            state.requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def dead_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- studies
def make_study(root: Path, artifacts: dict[str, Any], name: str = "demo") -> Study:
    """Write a minimal valid study with these artifacts under ``root/studies/<name>``."""
    manifest = {
        "name": name,
        "summary": "A test study.",
        "paper": {"title": "T", "authors": ["A"], "venue": "V 2020", "year": 2020},
        "hardware": {"declared": {"cpu": "any"}},
        "artifacts": artifacts,
        "experiments": {"e1": {"description": "d", "implementation": "original",
                               "runner": "runner.py:run", "seeds": [0]}},
        "claims": [{"id": "c1", "text": "x", "source": "Table 1", "metric": "rmse",
                    "reported": 1.0, "tolerance": {"absolute": 0.1},
                    "levels": {"re-run": "e1"}}],
    }
    folder = root / "studies" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return load_study(name, root)


# --------------------------------------------------------------------------- wheels
def build_wheel(folder: Path, name: str, version: str, files: dict[str, bytes],
                requires: tuple[str, ...] = ()) -> Path:
    """Build a pure-Python wheel of ``files`` with a valid dist-info (METADATA, WHEEL, RECORD).

    ``requires`` are its dependencies (``Requires-Dist`` lines), e.g. ``("tinydep==1.0",)``.
    """
    dist_info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires)).encode()
    contents[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: replikit-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n")
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    contents[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in contents.items():
            zf.writestr(path, data)
    return wheel


def build_sdist(folder: Path, name: str, version: str, files: dict[str, bytes],
                metadata: str = "") -> Path:
    """A source distribution of ``files`` that setuptools builds without a network.

    ``metadata`` adds lines to its PKG-INFO (e.g. ``"Author: Ada Example\n"``).
    """
    top = f"{name}-{version}"
    contents = {"pyproject.toml": (
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"'
        f'\n\n[project]\nname = "{name}"\nversion = "{version}"\n').encode(),
        "PKG-INFO": (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                     + metadata).encode(), **files}
    folder.mkdir(parents=True, exist_ok=True)
    sdist = folder / f"{top}.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for path, data in contents.items():
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return sdist


def publish_index(server: Server, dists: Path | list[Path], project: str) -> str:
    """Add a wheel or sdist (or several) to a PEP 503 simple index on ``server``.

    Returns the index URL.
    """
    links = []
    for dist in dists if isinstance(dists, list) else [dists]:
        server.put(f"files/{dist.name}", dist.read_bytes())
        links.append(f'<a href="../../files/{dist.name}#sha256={file_sha256(dist)}">'
                     f'{dist.name}</a>')
    server.put(f"simple/{project}/index.html",
               f"<!DOCTYPE html><html><body>{''.join(links)}</body></html>".encode())
    server.put("simple/index.html",
               f'<!DOCTYPE html><html><body><a href="{project}/">{project}</a></body></html>'
               .encode())
    return server.url("simple/")


def use_index(monkeypatch: pytest.MonkeyPatch, index_url: str) -> None:
    """Point pip at the local index only: no config files, no other index, no pip cache."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", index_url)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    for var in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(var, raising=False)


# --------------------------------------------------------------------------- git
def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env=env, check=True)
    return done.stdout.strip()


def make_repo(folder: Path) -> list[str]:
    """A git repository with two commits; returns their ids, oldest first."""
    folder.mkdir(parents=True)
    git(folder, "init", "--quiet", "-b", "main")
    commits = []
    for text in ("first\n", "second\n"):
        (folder / "README.md").write_text(text)
        git(folder, "add", "README.md")
        git(folder, "commit", "--quiet", "-m", text.strip())
        commits.append(git(folder, "rev-parse", "HEAD"))
    return commits
