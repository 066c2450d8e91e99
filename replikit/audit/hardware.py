"""Hardware: code paths that need a GPU, or a given number of GPUs.

``.cuda()`` and the device string ``"cuda"`` count as GPU-only when no test around them
asks whether a GPU is there (an ``if``/conditional expression whose test mentions
``is_available``, ``device_count``, or a name about cuda, GPUs or devices). Fixed device
indices (``"cuda:3"``, ``set_device(2)``, ``device_ids=[0, 1, 2, 3]``,
``CUDA_VISIBLE_DEVICES="0,1"``) assume that many GPUs.
"""

from __future__ import annotations

import ast

from replikit.audit.model import Finding
from replikit.audit.pysource import CodeTree, PySource

GUARD_WORDS = ("cuda", "gpu", "device", "is_available", "device_count")


def check(tree: CodeTree) -> list[Finding]:
    findings = []
    for source in tree.python:
        if source.tree is not None:
            guarded = _guarded_lines(source)
            findings += _gpu_only(source, guarded) + _device_counts(source)
    return findings


def _guarded_lines(source: PySource) -> set[int]:
    """Lines under an ``if`` (or conditional expression) that tests for a GPU."""
    lines: set[int] = set()
    for node in source.walk():
        if _is_gpu_test(node):
            lines |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _is_gpu_test(node: ast.AST) -> bool:
    """An ``if``/``while``/conditional expression, or an ``a and b``, that asks for a GPU."""
    if isinstance(node, ast.If | ast.IfExp | ast.While):
        return _tests_gpu(node.test)
    return isinstance(node, ast.BoolOp) and any(_tests_gpu(v) for v in node.values)


def _tests_gpu(test: ast.AST) -> bool:
    for node in ast.walk(test):
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value
        if isinstance(name, str) and any(word in name.lower() for word in GUARD_WORDS):
            return True
    return False


def _gpu_only(source: PySource, guarded: set[int]) -> list[Finding]:
    # ``device.type == torch.device("cuda").type`` asks which device is used; it fixes none.
    compared = {id(n) for c in source.walk() if isinstance(c, ast.Compare)
                for operand in (c.left, *c.comparators) for n in ast.walk(operand)}
    findings = []
    for node in source.walk():
        if not isinstance(node, ast.Call) or node.lineno in guarded or id(node) in compared:
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr == "cuda" and \
                not _is_module(source, node.func.value):
            findings.append(source.finding(
                "hardware", "gpu-only", ".cuda() without a check for a GPU: the code fails "
                "on a machine without CUDA", node.lineno))
        elif _cuda_string(node):
            findings.append(source.finding(
                "hardware", "gpu-only", "the device is fixed to CUDA without a check for a GPU",
                node.lineno))
    return findings


def _is_module(source: PySource, node: ast.AST) -> bool:
    return source.dotted(node) in ("torch", "cupy", "numba")


def _cuda_string(call: ast.Call) -> bool:
    values = [*call.args, *(k.value for k in call.keywords)]
    return any(isinstance(v, ast.Constant) and isinstance(v.value, str)
               and v.value.split(":")[0] == "cuda" for v in values) and \
        getattr(call.func, "attr", getattr(call.func, "id", "")) in ("to", "device")


def _device_counts(source: PySource) -> list[Finding]:
    findings = []
    for node in source.walk():
        count = _assumed_gpus(source, node)
        if count and count > 1:
            findings.append(source.finding(
                "hardware", "device-count", f"assumes at least {count} GPUs", node.lineno))
    return findings


def _assumed_gpus(source: PySource, node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
            node.value.startswith("cuda:") and node.value[5:].isdigit():
        return int(node.value[5:]) + 1
    if isinstance(node, ast.Call):
        name = source.dotted(node.func) or ""
        if name == "torch.cuda.set_device" and node.args and isinstance(
                node.args[0], ast.Constant) and isinstance(node.args[0].value, int):
            return node.args[0].value + 1
        for keyword in node.keywords:
            if keyword.arg == "device_ids" and isinstance(keyword.value, ast.List | ast.Tuple):
                return len(keyword.value.elts)
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(
            node.value.value, str) and any(_is_visible_devices(t) for t in node.targets):
        return len([d for d in node.value.value.split(",") if d.strip()])
    return None


def _is_visible_devices(target: ast.AST) -> bool:
    return isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) and \
        target.slice.value == "CUDA_VISIBLE_DEVICES"
