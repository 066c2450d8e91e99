"""Documentation: the completeness checklist of :mod:`replikit.audit.completeness`, as findings.

The checklist itself (dependencies, training code, evaluation code, pretrained models, a
results table with its commands) stays where the report's completeness table reads it; here
each item it answers "no" becomes a finding pointing at its evidence (the README it read),
except missing pretrained models where the code trains its models itself.
"""

from __future__ import annotations

from replikit.audit.completeness import checklist
from replikit.audit.model import Finding
from replikit.audit.pysource import CodeTree


def check(tree: CodeTree) -> list[Finding]:
    findings = []
    items = checklist(tree.root, tree.files)
    trains = any(i.item == "training code" and i.status == "yes" for i in items)
    for item in items:
        # Code that trains its models needs no pretrained ones to reproduce them.
        if item.status != "no" or (item.item == "pretrained models" and trains):
            continue
        evidence = item.evidence[0] if item.evidence else None
        check_id = "missing-" + item.item.replace(" ", "-")
        findings.append(Finding("documentation", check_id, f"{item.item}: {item.reason}",
                                evidence, None, ""))
    return findings
