"""Data: downloads at run time from sources nothing pins, and machine-specific paths.

A download is pinned when the call names a checksum or revision (``file_hash=``,
``md5=``, ``sha256=``, ``known_hash=``, ``check_hash=True``, ``revision=``) or the function
around it computes one with hashlib; otherwise the bytes can change under the code without
anyone noticing.

A machine-specific path is a string constant naming a file outside the tree on the author's
machine (``/home/...``, ``C:\\...``) that the code uses as a path: an argument of a
file-system call (``open``, ``pathlib.Path``, ``os``/``os.path``, ``shutil``, ``glob``,
``pandas.read_*``, ``numpy.load``, ``torch.load``, ``.to_csv()``, ...), directly or through a
name or parameter it is assigned to, or the default of a command-line option. A string that
is only tested for existence (``os.path.exists("/kaggle/input")``: code that looks for a
platform and copes without it), a URL, a regular expression or any other text with slashes
is not a path used. System folders, paths under the user's home (``~/...``, the same on
every machine) and suffixes joined to a folder are not counted.
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
RESPONSES = {"requests.get", "requests.request", "urllib.request.urlopen", "urllib.urlopen",
             "urllib2.urlopen"}  # calls whose downloaded bytes are their return value
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
    # A request whose response is thrown away (a ping to a server) downloads nothing used.
    discarded = {id(n.value) for n in source.walk() if isinstance(n, ast.Expr)}
    for call, name in source.calls():
        what = _download_kind(call, name)
        if what is None or _pinned(call) or _enclosing(source, call) in hashing or (
                id(call) in discarded and name in RESPONSES):
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


FS_CALLS = {"open", "io.open", "codecs.open", "glob.glob", "glob.iglob", "numpy.load",
            "numpy.loadtxt", "numpy.genfromtxt", "numpy.save", "numpy.savez", "numpy.savetxt",
            "numpy.fromfile", "numpy.memmap", "torch.load", "torch.save", "joblib.load",
            "joblib.dump", "h5py.File", "scipy.io.loadmat", "scipy.io.savemat",
            "PIL.Image.open", "cv2.imread", "cv2.imwrite", "zipfile.ZipFile", "tarfile.open",
            "sqlite3.connect", "tensorflow.keras.models.load_model",
            "keras.models.load_model", "datasets.load_from_disk"}
FS_PREFIXES = ("os.", "shutil.", "pathlib.", "pandas.read_", "tensorflow.io.gfile.")
FS_METHODS = {"to_csv", "to_parquet", "to_pickle", "to_excel", "to_hdf", "to_feather",
              "savefig", "save_pretrained", "from_pretrained", "load_model", "save_model",
              "load_weights", "save_weights", "read_csv"}
# Asking whether a path exists is looking for a platform or a cache, not depending on it.
PROBES = {"exists", "isfile", "isdir", "islink", "lexists", "ismount", "is_file", "is_dir",
          "getenv", "environ"}
OPTION_CALLS = {"add_argument", "DEFINE_string", "option"}


def _absolute_paths(source: PySource) -> list[Finding]:
    skipped = {id(n.right) for n in source.walk() if isinstance(n, ast.BinOp)}  # x + "/a/b"
    skipped |= {id(a) for call, name in source.calls() if name == "os.path.join"
                for a in call.args[1:]}
    bound = _bound_paths(source, skipped)
    used: dict[int, tuple[ast.Constant, str]] = {}
    for call in (n for n in source.walk() if isinstance(n, ast.Call)):
        if _is_option(call):
            for keyword in call.keywords:
                if keyword.arg == "default":
                    used.update(_paths_in(keyword.value, {}, skipped, "the default of an option"))
        elif _is_fs_call(source, call):
            for argument in [*call.args, *(k.value for k in call.keywords)]:
                used.update(_paths_in(argument, bound, skipped, None))
    return [source.finding("data", "absolute-path", f"the path {node.value!r}"
                           f"{f' ({how})' if how else ''} exists only on the author's machine; "
                           "make it an option or relative to the project", node.lineno)
            for node, how in sorted(used.values(), key=lambda item: item[0].lineno)]


def _is_fs_call(source: PySource, call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in PROBES:
        return False
    name = source.dotted(func) or (func.id if isinstance(func, ast.Name) else "")
    if name in FS_CALLS or name.startswith(FS_PREFIXES):
        return name.rsplit(".", 1)[-1] not in PROBES
    return isinstance(func, ast.Attribute) and func.attr in FS_METHODS


def _is_option(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in OPTION_CALLS


def _bound_paths(source: PySource, skipped: set[int]) -> dict[str, list[ast.Constant]]:
    """Name (variable, attribute or parameter) -> the path constants assigned to it."""
    bound: dict[str, list[ast.Constant]] = {}
    for node in source.walk():
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            constants = [c for c, _ in _paths_in(node.value, {}, skipped, None).values()]
            for target in targets:
                key = getattr(target, "id", getattr(target, "attr", None))
                if key and constants:
                    bound.setdefault(key, []).extend(constants)
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            pairs = [*zip(positional[len(positional) - len(node.defaults):], node.defaults,
                          strict=True),
                     *((a, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)
                       if d is not None)]
            for arg, default in pairs:
                constants = [c for c, _ in _paths_in(default, {}, skipped, None).values()]
                if constants:
                    bound.setdefault(arg.arg, []).extend(constants)
    return bound


def _paths_in(expr: ast.AST, bound: dict[str, list[ast.Constant]], skipped: set[int],
              how: str | None) -> dict[int, tuple[ast.Constant, str | None]]:
    """The machine paths an expression holds: its constants, and those bound to its names.

    Parts of f-strings are not paths on their own (``f"https://x/{v}/dist/a.js"``).
    """
    inside_fstrings = {id(c) for n in ast.walk(expr) if isinstance(n, ast.JoinedStr)
                       for c in ast.walk(n)}
    found = {}
    for node in ast.walk(expr):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                id(node) not in skipped | inside_fstrings and _machine_path(node.value):
            found[id(node)] = (node, how)
        elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            key = getattr(node, "id", getattr(node, "attr", None))
            found.update({id(c): (c, how) for c in bound.get(key, [])})
    return found


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
