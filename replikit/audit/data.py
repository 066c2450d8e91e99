"""Data: downloads at run time from sources nothing pins, and machine-specific paths.

A download is pinned when the call names a checksum or revision (``file_hash=``,
``md5=``, ``sha256=``, ``known_hash=``, ``check_hash=True``, ``revision=``) or the function
around it computes one with hashlib; otherwise the bytes can change under the code without
anyone noticing. Absolute paths are string constants that name a file outside the tree on
the author's machine (``/home/...``, ``C:\\...``); system folders, paths under the user's
home (``~/...``, the same on every machine) and suffixes joined to a folder are not counted.
"""

from __future__ import annotations

import ast
from pathlib import PurePosixPath, PureWindowsPath

from replikit.audit.model import Finding
from replikit.audit.pysource import CodeTree, PySource

DOWNLOADS = {
    "urllib.request.urlretrieve", "urllib.request.urlopen", "urllib.urlretrieve",
    "urllib.urlopen", "urllib2.urlopen", "requests.get", "requests.request", "wget.download",
    "gdown.download", "torch.hub.download_url_to_file", "torch.hub.load_state_dict_from_url",
    "tensorflow.keras.utils.get_file", "keras.utils.get_file", "datasets.load_dataset",
    "huggingface_hub.hf_hub_download", "six.moves.urllib.request.urlretrieve",
}
PINS = {"file_hash", "md5", "sha256", "known_hash", "hash_prefix", "revision", "md5_hash"}
SHELL = {"os.system", "subprocess.run", "subprocess.call", "subprocess.check_call",
         "subprocess.Popen", "subprocess.check_output"}
SYSTEM_DIRS = ("/dev", "/proc", "/sys", "/tmp", "/usr", "/etc", "/bin", "/sbin", "/lib",
               "/var", "/opt/conda", "/")


def check(tree: CodeTree) -> list[Finding]:
    findings = []
    for source in tree.python:
        if source.tree is not None:
            findings += _downloads(source) + _absolute_paths(source)
    return findings


def _downloads(source: PySource) -> list[Finding]:
    findings = []
    hashing = _functions_that_hash(source)
    for call, name in source.calls():
        what = _download_kind(call, name)
        if what is None or _pinned(call) or _enclosing(source, call) in hashing:
            continue
        findings.append(source.finding(
            "data", "unpinned-download", f"downloads {what} at run time with no checksum or "
            "revision, so the data can change without notice", call.lineno))
    return findings


def _download_kind(call: ast.Call, name: str) -> str | None:
    url = next((a.value for a in call.args if isinstance(a, ast.Constant)
                and isinstance(a.value, str) and "://" in a.value), None)
    if name in DOWNLOADS:
        return url or f"through {name}()"
    if name.startswith("torchvision.datasets.") and any(
            k.arg == "download" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in call.keywords):
        return f"the {name.split('.')[-1]} data set (download=True)"
    if name in SHELL:
        words = _command_words(call)
        if words and words[0] in ("wget", "curl"):
            return next((w for w in words if "://" in w), f"with {words[0]}")
    return None


def _command_words(call: ast.Call) -> list[str]:
    if not call.args:
        return []
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value.split()
    if isinstance(first, ast.List):
        return [e.value for e in first.elts if isinstance(e, ast.Constant)
                and isinstance(e.value, str)]
    return []


def _pinned(call: ast.Call) -> bool:
    return any(k.arg in PINS or (k.arg == "check_hash" and isinstance(k.value, ast.Constant)
                                 and k.value.value is True) for k in call.keywords)


def _functions_that_hash(source: PySource) -> set[ast.AST]:
    return {node for node in source.walk()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                (source.dotted(n.func) or "").startswith("hashlib.")
                for n in ast.walk(node) if isinstance(n, ast.Call))}


def _enclosing(source: PySource, target: ast.AST) -> ast.AST | None:
    """The innermost function around ``target`` (None at module level)."""
    best = None
    for node in source.walk():
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                node.lineno <= target.lineno <= (node.end_lineno or node.lineno) and (
                best is None or node.lineno > best.lineno):
            best = node
    return best


def _absolute_paths(source: PySource) -> list[Finding]:
    skipped = {id(n.value) for n in source.walk() if isinstance(n, ast.Expr)}  # docstrings
    skipped |= {id(n.right) for n in source.walk() if isinstance(n, ast.BinOp)}  # x + "/a/b"
    skipped |= {id(a) for call, name in source.calls() if name == "os.path.join"
                for a in call.args[1:]}
    findings = []
    for node in source.walk():
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                id(node) not in skipped and _machine_path(node.value):
            findings.append(source.finding(
                "data", "absolute-path", f"the path {node.value!r} exists only on the "
                "author's machine; make it an option or relative to the project", node.lineno))
    return findings


def _machine_path(text: str) -> bool:
    if not text or len(text) > 260 or any(c.isspace() for c in text) or "://" in text:
        return False
    windows = PureWindowsPath(text)
    if windows.drive and windows.is_absolute() and len(windows.parts) >= 2:
        return True
    posix = PurePosixPath(text)
    if not posix.is_absolute() or len(posix.parts) < 3:
        return False
    top = "/" + posix.parts[1]
    return top not in SYSTEM_DIRS and not text.startswith("/opt/conda")
