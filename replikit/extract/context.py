"""What the text around a table says: seeds, protocol, and relations between its methods.

The paragraphs of a table's section (:attr:`replikit.extract.model.Table.context`) often
say how many runs the numbers average ("over 5 seeds"), how they were evaluated
("5-fold cross-validation") and how the methods compare ("EBM is as accurate as Random
Forest", "A outperforms B", "A is 3 times faster than B"). Those sentences become drafts for
the user to confirm: :class:`Setup` for the experiments, :class:`Relation` for claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEEDS = re.compile(r"\b(?:over|across|averaged over|mean of|of)?\s*(\d{1,3})\s+(?:random\s+|"
                    r"different\s+|independent\s+)?(?:seeds|runs|repetitions|trials)\b", re.I)
_PROTOCOLS = (
    (re.compile(r"\b(\d+)[- ]fold\s+(?:stratified\s+)?cross[- ]validation\b", re.I),
     "{0}-fold cross-validation"),
    (re.compile(r"\b(\d+)\s*/\s*(\d+)\s+(?:train(?:ing)?\s*/\s*test\s+)?split\b", re.I),
     "{0}/{1} train/test split"),
    (re.compile(r"\b(\d+)\s*%\s+(?:held[- ]out\s+)?test\s+(?:set|split)\b", re.I),
     "{0}% held-out test set"),
)
_KINDS = (
    ("equivalence", re.compile(r"\bas\s+(?:accurate|good|well|strong)\s+as\b|\bon\s+par\s+"
                               r"with\b|\bcomparable\s+to\b|\bcompetitive\s+with\b", re.I)),
    ("comparison", re.compile(r"\b(?:outperforms?|beats?|surpass(?:es)?|(?:is|are)\s+"
                              r"(?:more\s+accurate|better)\s+than)\b", re.I)),
    ("ratio", re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:x|×|times)\s+faster\s+than\b", re.I)),
)


@dataclass(frozen=True)
class Setup:
    """The seeds and protocol the text states, with the words that state them."""

    seeds: int | None = None
    protocol: str | None = None
    said: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    """A sentence relating two methods: ``a`` (its subject) to ``b``; for a ratio of times,
    ``a`` is the slower, so that a's time is ``factor`` times b's."""

    kind: str          # equivalence, comparison or ratio
    a: str
    b: str
    sentence: str
    factor: float | None = None  # the k of "k times faster"


def read_setup(paragraphs: list[str]) -> Setup:
    """The first number of seeds and the first protocol the paragraphs state."""
    text = " ".join(paragraphs)
    said = []
    seeds = protocol = None
    match = _SEEDS.search(text)
    if match:
        seeds = int(match.group(1))
        said.append(f"seeds: {seeds}, from {match.group(0).strip()!r}")
    for pattern, form in _PROTOCOLS:
        found = pattern.search(text)
        if found:
            protocol = form.format(*found.groups())
            said.append(f"protocol: from {found.group(0)!r}")
            break
    return Setup(seeds if seeds and seeds > 0 else None, protocol, tuple(said))


def read_relations(paragraphs: list[str], methods: list[str]) -> list[Relation]:
    """The relations the paragraphs state between the ``methods`` (labels as printed).

    A method is named by its label (any case) or its initials (``EBM``), also in the plural
    ("random forests", "EBMs"); a clause whose
    subject is a pronoun ("it is 3 times faster") takes the sentence's last subject.
    """
    found = []
    for sentence in _sentences(paragraphs):
        subject = None
        for clause in re.split(r",?\s+(?:and|while|but|whereas)\s+|;\s*", sentence):
            for kind, pattern in _KINDS:
                match = pattern.search(clause)
                if not match:
                    continue
                left = _mentions(clause[:match.start()], methods)
                right = _mentions(clause[match.end():], methods)
                a = left[-1] if left else subject
                if a and right and right[0] != a:
                    if kind == "ratio":  # "a is k times faster than b": b's time is k times a's
                        found.append(Relation(kind, right[0], a, sentence,
                                              float(match.group(1))))
                    else:
                        found.append(Relation(kind, a, right[0], sentence))
                subject = a or subject
                break
            else:
                mentioned = _mentions(clause, methods)
                subject = mentioned[0] if mentioned else subject
    return found


def _sentences(paragraphs: list[str]) -> list[str]:
    return [s.strip() for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if s.strip()]


def _mentions(text: str, methods: list[str]) -> list[str]:
    """The methods named in ``text``, in the order they appear."""
    hits = []
    for method in methods:
        for alias in _aliases(method):
            flags = 0 if alias.isupper() and alias != method else re.I
            match = re.search(rf"(?<![\w-]){re.escape(alias)}(?:e?s)?(?![\w-])", text, flags)
            if match:
                hits.append((match.start(), method))
                break
    return [method for _, method in sorted(hits)]


def _aliases(method: str) -> list[str]:
    words = re.findall(r"[A-Za-z0-9]+", method)
    initials = "".join(w[0] for w in words).upper() if len(words) > 1 else ""
    return [method] + ([initials] if len(initials) > 1 else [])
