"""Turn ``report.qmd`` into HTML, PDF, DOCX and LaTeX, with Quarto or without it.

With ``quarto`` on the PATH, each format is one ``quarto render`` (PDF through Quarto's
typst format, so no LaTeX installation is needed). Without it, the same document goes
through pandoc (the binary shipped in pypandoc-binary) with a Lua filter that translates
the Quarto-only syntax the report uses (``templates/report/quarto-compat.lua``):

* HTML: self-contained (images and the stylesheet embedded), with a table of contents;
* PDF: pandoc's typst writer, then the ``typst`` Python package compiles it;
* DOCX and LaTeX (``.tex``): pandoc's writers.

Every output is written to a temporary file beside its target and moved into place only
when the renderer succeeded; a failing renderer raises a :class:`ReplikitError` naming the
format, quoting the tool's diagnostics and the offending line of the source it points at,
with the section (or front-matter key) that line belongs to.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from replikit import paths
from replikit.errors import ReplikitError
from replikit.fileio import atomic_path

TEMPLATES = paths.templates("report")
LUA_FILTER = TEMPLATES / "quarto-compat.lua"
TYPST_HEADER = TEMPLATES / "typst-header.typ"
STYLESHEET = TEMPLATES / "style.css"
EXTENSIONS = {"html": ".html", "pdf": ".pdf", "docx": ".docx", "latex": ".tex"}
ALIASES = {"tex": "latex", "typst": "pdf"}
QUARTO_TARGETS = {"html": "html", "pdf": "typst", "docx": "docx", "latex": "latex"}
# Page and type settings shared with _quarto.yml, so both routes print alike.
TYPST_DEFAULTS = TEMPLATES / "typst-defaults.yaml"
TOOL_TIMEOUT_S = 600


def _normalise(formats: Iterable[str]) -> list[str]:
    out = []
    for name in formats:
        fmt = ALIASES.get(name.lower(), name.lower())
        if fmt not in EXTENSIONS:
            raise ReplikitError(
                f"unknown report format {name!r}", expected=f"one of {sorted(EXTENSIONS)}",
                found=repr(name), fix="choose html, pdf, docx or latex",
            )
        if fmt not in out:
            out.append(fmt)
    return out


def find_quarto() -> str | None:
    """The ``quarto`` executable on the PATH, or None."""
    return shutil.which("quarto")


def render(
    qmd_path: str | Path,
    formats: Iterable[str] = ("html", "pdf"),
    *,
    engine: str = "auto",
    timings: dict[str, float] | None = None,
) -> dict[str, Path]:
    """Render ``report.qmd`` to each format; outputs go beside it (``report.html``, ...).

    Parameters
    ----------
    qmd_path
        The report source written by :func:`replikit.publish.report.write_report_source`.
    formats
        Any of ``html``, ``pdf``, ``docx``, ``latex`` (alias ``tex``).
    engine
        ``auto`` uses Quarto when it is on the PATH and pandoc otherwise; ``quarto`` or
        ``pandoc`` forces one.
    timings
        When given, filled with the seconds each format took.

    Returns
    -------
    dict
        Format name to output path.
    """
    qmd = Path(qmd_path).resolve()
    if not qmd.exists():
        raise ReplikitError("the report source does not exist", where=str(qmd),
                            fix="write it first with replikit.publish.report.write_report_source")
    wanted = _normalise(formats)
    quarto = find_quarto() if engine in ("auto", "quarto") else None
    if engine == "quarto" and quarto is None:
        raise ReplikitError("engine 'quarto' was asked for, but quarto is not on the PATH",
                            fix="install Quarto, or use engine='pandoc'")
    outputs = {}
    for fmt in wanted:
        started = time.perf_counter()
        target = qmd.with_suffix(EXTENSIONS[fmt])
        if quarto:
            outputs[fmt] = _render_quarto(quarto, qmd, fmt, target)
        else:
            outputs[fmt] = _RENDERERS[fmt](qmd, target)
        if timings is not None:
            timings[fmt] = time.perf_counter() - started
    return outputs


# --------------------------------------------------------------------------- quarto
def _render_quarto(quarto: str, qmd: Path, fmt: str, target: Path) -> Path:
    """``quarto render`` into a temporary name, then move the result into place."""
    with atomic_path(target) as tmp:
        command = [quarto, "render", qmd.name, "--to", QUARTO_TARGETS[fmt],
                   "--output", tmp.name]
        _run(command, fmt, "quarto", cwd=qmd.parent)
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise ReplikitError(
                f"quarto reported success for {fmt} but wrote nothing", where=str(tmp),
                expected=f"the rendered {fmt} file", found="no file or an empty file",
                fix="run the command by hand in the report folder to see what happened",
            )
    return target


# --------------------------------------------------------------------------- pandoc
def _pandoc() -> str:
    try:
        import pypandoc
    except ImportError as exc:  # a dependency of replikit, so this is an installation fault
        raise ReplikitError("pypandoc-binary is not installed",
                            fix="pip install pypandoc-binary") from exc
    return pypandoc.get_pandoc_path()


def _pandoc_command(qmd: Path, writer: str, output: Path, extra: list[str]) -> list[str]:
    return [_pandoc(), qmd.name, "--from", "markdown", "--to", writer, "--standalone",
            "--lua-filter", str(LUA_FILTER), "--resource-path", str(qmd.parent),
            "--output", str(output), *extra]


def _render_html(qmd: Path, target: Path) -> Path:
    css = qmd.parent / "style.css"
    extra = ["--embed-resources", "--toc", "--toc-depth", "2", "--css",
             str(css if css.exists() else STYLESHEET), "--section-divs"]
    with atomic_path(target) as tmp:
        _run(_pandoc_command(qmd, "html5", tmp, extra), "html", "pandoc", cwd=qmd.parent)
    return target


def _render_docx(qmd: Path, target: Path) -> Path:
    with atomic_path(target) as tmp:
        command = _pandoc_command(qmd, "docx", tmp, ["--toc", "--toc-depth", "2"])
        _run(command, "docx", "pandoc", cwd=qmd.parent)
    return target


def _render_latex(qmd: Path, target: Path) -> Path:
    extra = ["--toc", "--toc-depth", "2", "-V", "geometry:a4paper,margin=2cm"]
    with atomic_path(target) as tmp:
        _run(_pandoc_command(qmd, "latex", tmp, extra), "latex", "pandoc", cwd=qmd.parent)
    return target


def typst_source(qmd: Path) -> Path:
    """Write ``report.typ`` beside the source (kept: it is what the PDF was made from)."""
    target = qmd.with_suffix(".typ")
    extra = ["--toc", "--toc-depth", "2", "--include-in-header", str(TYPST_HEADER),
             "--defaults",
             str(TYPST_DEFAULTS)]
    with atomic_path(target) as tmp:
        _run(_pandoc_command(qmd, "typst", tmp, extra), "pdf", "pandoc (typst writer)",
             cwd=qmd.parent)
    return target


def _render_pdf(qmd: Path, target: Path) -> Path:
    typ = typst_source(qmd)
    try:
        import typst
    except ImportError as exc:
        raise ReplikitError("the typst Python package is not installed",
                            fix="pip install typst") from exc
    with atomic_path(target) as tmp:
        try:
            # A fixed timestamp keeps the PDF's metadata, hence its bytes, repeatable.
            typst.compile(str(typ), output=str(tmp), root=str(qmd.parent), format="pdf",
                          timestamp=0)
        except Exception as exc:  # typst raises its own error types with the diagnostics
            diagnostic = getattr(exc, "diagnostic", None) or str(exc)
            location = re.search(r"\S+\.typ:(\d+):\d+", diagnostic)
            raise ReplikitError(
                "rendering pdf failed in typst", where=str(typ),
                expected="a typst document that compiles",
                found=_tail(diagnostic.strip()) + (
                    _offending(typ, int(location.group(1))) if location else ""),
                fix="the offending text above reached the PDF unescaped: report it as a bug "
                "of replikit's escaping, and meanwhile reword it in the file it comes from; "
                "the .typ file is kept for inspection",
            ) from exc
    return target


_RENDERERS = {"html": _render_html, "pdf": _render_pdf, "docx": _render_docx,
              "latex": _render_latex}


# --------------------------------------------------------------------------- running
def _offending(source: Path, line: int) -> str:
    """The source line a diagnostic points at, and the section or front-matter key it is in."""
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    if not 0 < line <= len(lines):
        return ""
    heading = next((h.lstrip("#= ").strip() for h in reversed(lines[:line - 1])
                    if re.match(r"(#+|=+) \S", h)), None)
    key = re.match(r"([\w-]+):", lines[line - 1])
    field = (f"front-matter key {key.group(1)!r}" if key and heading is None else
             f"section {heading!r}" if heading else "the start of the document")
    return (f"\n  in {field}, {source.name} line {line}: "
            f"{_tail(lines[line - 1].strip(), 300)}")


def _pandoc_location(message: str, cwd: Path) -> str:
    """pandoc's 'at "<file>" (line N, ...)', plus a YAML parser's own line within the block."""
    found = re.search(r'at "([^"]+)" \(line (\d+), column \d+\)', message)
    if not found:
        return ""
    line = int(found.group(2))
    inner = re.search(r"YAML parse exception at line (\d+)", message)
    return _offending(cwd / found.group(1), line + int(inner.group(1)) if inner else line)


def _tail(text: str, limit: int = 2000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def _run(command: list[str], fmt: str, tool: str, cwd: Path) -> None:
    """Run a renderer; on failure raise an error naming the format and quoting the tool."""
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                              timeout=TOOL_TIMEOUT_S, env=os.environ.copy(), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReplikitError(f"rendering {fmt} failed: {tool} could not run",
                            where=str(cwd), found=str(exc),
                            fix=f"check that {tool} is installed and works") from exc
    if done.returncode != 0:
        message = (done.stderr or "") + "\n" + (done.stdout or "")
        raise ReplikitError(
            f"rendering {fmt} failed in {tool} (exit status {done.returncode})",
            where=str(cwd), expected="exit status 0",
            found=_tail(message) + _pandoc_location(message, cwd),
            fix=f"read {tool}'s message above; the command was: {' '.join(command)}",
        )
