"""Tables of a LaTeX source (``tabular`` and kin), read with pylatexenc's LaTeX parser.

``\\multicolumn{n}{spec}{text}`` spreads its text over ``n`` columns (so every column under
a group header carries the group's name), ``\\multirow{n}{width}{text}`` carries its text
down ``n`` rows, ``\\pm`` becomes ``±``, and ``\\textbf``/``\\bfseries``/``\\mathbf`` and
``\\underline`` are kept as marks. A table is labelled by the first sentence of the
caption of the ``table`` environment around it, else by its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pylatexenc import macrospec
from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
    LatexWalkerError,
    get_default_latex_context_db,
)

from replikit.errors import ReplikitError
from replikit.extract.model import Cell, Table, parse_number

TABULARS = {"tabular", "tabular*", "tabularx", "longtable", "array"}
RULES = {"hline", "toprule", "midrule", "bottomrule", "cline", "cmidrule", "addlinespace",
         "specialrule"}
BOLD = {"textbf", "mathbf", "bm", "boldsymbol", "bfseries", "bf"}
UNDERLINE = {"underline", "uline", "ul"}
DROPPED = {"cite", "citep", "citet", "ref", "label", "footnote", "tnote", "vspace",
           "hspace", "rule"}
SYMBOLS = {"pm": " ± ", "%": "%", "&": "&", "_": "_", "#": "#", "times": "×", ",": " ",
           ";": " ", "textpm": " ± ", "$": "$"}
SECTIONS = {"section", "subsection", "subsubsection"}


@dataclass
class _Piece:
    """A cell being read: its text, marks and spans."""

    text: str = ""
    bold: bool = False
    underline: bool = False
    columns: int = 1
    rows: int = 1


def _context():
    db = get_default_latex_context_db()
    specs = [macrospec.MacroSpec("multicolumn", "{{{"), macrospec.MacroSpec("multirow", "[{[{{"),
             macrospec.MacroSpec("cmidrule", "["), macrospec.MacroSpec("toprule", "["),
             macrospec.MacroSpec("midrule", "["), macrospec.MacroSpec("bottomrule", "["),
             macrospec.MacroSpec("specialrule", "{{{"), macrospec.MacroSpec("cline", "{"),
             macrospec.MacroSpec("uline", "{"), macrospec.MacroSpec("ul", "{"),
             macrospec.MacroSpec("bm", "{"), macrospec.MacroSpec("boldsymbol", "{"),
             macrospec.MacroSpec("tnote", "{"), macrospec.MacroSpec("addlinespace", "["),
             macrospec.MacroSpec("caption", "*[{")]
    db.add_context_category("replikit-tables", macros=specs, prepend=True)
    return db


def read_tables(path: Path, display_name: str | None = None) -> list[Table]:
    """Every tabular of the LaTeX file at ``path``, in order."""
    source = path.read_text(encoding="utf-8")
    walker = LatexWalker(source, latex_context=_context(), tolerant_parsing=False)
    try:
        nodes, _, _ = walker.get_latex_nodes()
    except LatexWalkerError as exc:
        raise ReplikitError("cannot parse the LaTeX source", where=str(path),
                            found=str(exc).splitlines()[0],
                            fix="check the braces and environments around the tables") from exc
    found: list[Table] = []
    _collect(nodes, walker, display_name or path.name, found, caption=None, section=[None])
    return found


def _collect(nodes, walker, name, found, caption, section) -> None:
    for node in nodes or []:
        if isinstance(node, LatexMacroNode) and node.macroname in SECTIONS:
            section[0] = _plain(node.nodeargd.argnlist[-1:]).text.strip() or section[0]
        elif isinstance(node, LatexEnvironmentNode):
            if node.environmentname in TABULARS:
                line, _ = walker.pos_to_lineno_colno(node.pos)
                found.append(_table(node, name, caption, section[0], len(found) + 1, line))
            else:
                inner = _caption(node) if node.environmentname.startswith("table") else caption
                _collect(node.nodelist, walker, name, found, inner, section)
        elif isinstance(node, LatexGroupNode):
            _collect(node.nodelist, walker, name, found, caption, section)


def _caption(env: LatexEnvironmentNode) -> str | None:
    for node in env.nodelist or []:
        if isinstance(node, LatexMacroNode) and node.macroname == "caption":
            text = _plain(node.nodeargd.argnlist[-1:]).text.strip()
            return text.split(". ")[0].rstrip(".") or None
    return None


# --------------------------------------------------------------------------- one table
def _table(env, name, caption, section, number, line) -> Table:
    grid = _fill_down(_expand([row for row in _rows(env.nodelist) if any(
        p.text.strip() for p in row)]))
    split = next((k for k, row in enumerate(grid)
                  if any(parse_number(c.text) is not None for c in row[1:])), len(grid))
    return Table(label=caption or f"Table {number}", header=grid[:split], rows=grid[split:],
                 file=name, section=section, where=f"line {line}")


def _rows(nodes) -> list[list[_Piece]]:
    """Split a tabular's body at ``&`` and ``\\\\`` into rows of cells."""
    rows: list[list[_Piece]] = [[_Piece()]]
    skip_rule_arguments = False
    for node in nodes or []:
        if isinstance(node, LatexSpecialsNode) and node.specials_chars == "&":
            rows[-1].append(_Piece())
        elif isinstance(node, LatexMacroNode) and node.macroname in ("\\", "tabularnewline"):
            rows.append([_Piece()])
        elif isinstance(node, LatexMacroNode) and node.macroname in RULES:
            skip_rule_arguments = node.macroname in ("cmidrule", "cline")
        elif skip_rule_arguments and _is_rule_argument(node):
            continue  # cmidrule(lr){2-3}: the (lr) and {2-3} parts are layout, not text
        else:
            skip_rule_arguments = False
            _add(rows[-1][-1], _plain([node]))
    return rows


def _is_rule_argument(node) -> bool:
    if isinstance(node, LatexGroupNode):
        return True
    return isinstance(node, LatexCharsNode) and (
        not node.chars.strip() or node.chars.strip().startswith("("))


def _add(cell: _Piece, part: _Piece) -> None:
    cell.text += part.text
    cell.bold |= part.bold
    cell.underline |= part.underline
    cell.columns = max(cell.columns, part.columns)
    cell.rows = max(cell.rows, part.rows)


def _expand(rows: list[list[_Piece]]) -> list[list[_Piece]]:
    """Repeat a multicolumn cell over the columns it spans."""
    out = []
    for row in rows:
        expanded = []
        for piece in row:
            expanded += [piece] * piece.columns
        out.append(expanded)
    return out


def _fill_down(rows: list[list[_Piece]]) -> list[list[Cell]]:
    """Carry a multirow cell's text into the empty cells below it."""
    carry: dict[int, tuple[_Piece, int]] = {}
    grid = []
    for row in rows:
        cells = []
        for column, piece in enumerate(row):
            held = carry.get(column)
            if not piece.text.strip() and held and held[1] > 0:
                piece = held[0]
                carry[column] = (piece, held[1] - 1)
            elif piece.rows > 1:
                carry[column] = (piece, piece.rows - 1)
            cells.append(Cell(" ".join(piece.text.split()), piece.bold, piece.underline))
        grid.append(cells)
    return grid


# --------------------------------------------------------------------------- text
def _plain(nodes) -> _Piece:
    """The text of nodes as a reader sees it, with marks and spans noted."""
    piece = _Piece()
    for node in nodes or []:
        if node is None or isinstance(node, LatexCommentNode):
            continue
        if isinstance(node, LatexCharsNode):
            piece.text += node.chars
        elif isinstance(node, LatexSpecialsNode):
            piece.text += {"~": " ", "--": "–", "---": "—"}.get(node.specials_chars,
                                                               node.specials_chars)
        elif isinstance(node, LatexGroupNode | LatexMathNode | LatexEnvironmentNode):
            _add(piece, _plain(node.nodelist))
        elif isinstance(node, LatexMacroNode):
            _add(piece, _macro(node))
    return piece


def _macro(node: LatexMacroNode) -> _Piece:
    name = node.macroname
    args = [a for a in (node.nodeargd.argnlist if node.nodeargd else []) if a is not None]
    if name in SYMBOLS:
        return _Piece(SYMBOLS[name])
    if name in DROPPED:
        return _Piece()
    inner = _plain(args[-1:]) if name in ("multicolumn", "multirow") else _plain(args)
    if name in BOLD:
        inner.bold = True
    elif name in UNDERLINE:
        inner.underline = True
    elif name == "multicolumn":
        inner.columns = _count(args[0])
    elif name == "multirow":
        inner.rows = _count(args[0])
    return inner


def _count(node) -> int:
    try:
        return max(1, abs(int(_plain([node]).text.strip())))
    except ValueError:
        return 1
