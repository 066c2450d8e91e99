"""Are two figures comparable? The keys of what they were measured under that differ.

One rule for every comparison the workbench draws: a claim's level against the claim
(data set and protocol, :meth:`replikit.study.model.Study.differences`) and our figure
against a peer library's (the ``protocol`` mappings of :mod:`replikit.ext.recsys.protocol`,
in :mod:`replikit.publish.report.peers`). Two figures are comparable when no key differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def differing_keys(ours: Mapping[str, Any], theirs: Mapping[str, Any], *,
                   unstated_differs: bool = True) -> list[str]:
    """The keys whose values differ, in ``ours``' order then ``theirs``'.

    A key one side does not state (absent or ``None``) differs when ``unstated_differs``
    (a peer figure must state everything ours does); with ``False`` only what both sides
    state is compared (a claim that names no protocol is not contradicted by one).

    >>> differing_keys({"a": 1, "b": True}, {"a": 1, "b": False})
    ['b']
    >>> differing_keys({"a": 1, "b": None}, {"a": 1}, unstated_differs=False)
    []
    >>> differing_keys({"a": 1}, {"a": 1, "c": 2})
    ['c']
    """
    out = []
    for key in [*ours, *(k for k in theirs if k not in ours)]:
        mine, other = ours.get(key), theirs.get(key)
        if mine is None or other is None:
            if unstated_differs and (mine is None) != (other is None):
                out.append(key)
        elif mine != other:
            out.append(key)
    return out
