"""Randomness: generators used without a seed in the entry points, non-deterministic
settings, seeds fixed in code instead of exposed as options.

For each entry point (a ``__main__`` script) the generators it draws from — in its own
code or in the modules of the tree it imports — are set against the seeds it sets (itself,
or through a function of the tree it calls, such as ``set_seed``). A family drawn from and
never seeded is a finding at the line of the first draw. Calls are recognised by their
resolved names (``np.random.rand`` is ``numpy.random.rand``), never by text.
"""

from __future__ import annotations

import ast
from pathlib import Path

from replikit.audit.model import Finding
from replikit.audit.pysource import CodeTree, PySource

FAMILIES = {"random": "Python's random", "numpy": "NumPy", "torch": "PyTorch",
            "tensorflow": "TensorFlow", "jax": "JAX"}
#: Generators made without a seed: no global seed reaches them.
NEW_GENERATORS = {"numpy.random.default_rng": "numpy:new", "numpy.random.RandomState":
                  "numpy:new", "random.Random": "random:new"}
SEEDERS = {
    "random.seed": {"random"}, "numpy.random.seed": {"numpy"},
    "torch.manual_seed": {"torch"}, "torch.cuda.manual_seed_all": {"torch"},
    "torch.cuda.manual_seed": {"torch"}, "tensorflow.random.set_seed": {"tensorflow"},
    "tensorflow.set_random_seed": {"tensorflow"},
    "tensorflow.compat.v1.set_random_seed": {"tensorflow"},
    "tensorflow.keras.utils.set_random_seed": {"random", "numpy", "tensorflow"},
    "keras.utils.set_random_seed": {"random", "numpy", "tensorflow"},
    "pytorch_lightning.seed_everything": {"random", "numpy", "torch"},
    "lightning.seed_everything": {"random", "numpy", "torch"},
    "transformers.set_seed": {"random", "numpy", "torch", "tensorflow"},
}
NOT_DRAWS = {"seed", "get_state", "set_state", "getstate", "setstate", "default_rng",
             "RandomState", "Random", "SystemRandom", "Generator", "SeedSequence",
             "PRNGKey", "key", "split", "fold_in"}
TORCH_DRAWS = {"rand", "randn", "randint", "randperm", "bernoulli", "multinomial", "normal",
               "rand_like", "randn_like", "randint_like", "poisson"}
TORCH_LAYERS = {"Linear", "Embedding", "Conv1d", "Conv2d", "Conv3d", "LSTM", "GRU", "RNN",
                "Bilinear", "MultiheadAttention", "TransformerEncoderLayer", "Dropout"}
OPTION_CALLS = {"add_argument", "option", "DEFINE_integer", "DEFINE_int", "DEFINE_string",
                "Option", "argument"}


def check(tree: CodeTree) -> list[Finding]:
    modules = {_module_name(s.rel): s for s in tree.python if s.tree is not None}
    seeding_functions = _seeding_functions(tree)
    findings = [f for s in tree.python for f in _settings(s)]
    for entry in (s for s in tree.python if s.is_entry_point and s.tree is not None):
        findings += _entry_point(entry, modules, seeding_functions)
    return findings


def _module_name(rel: str) -> str:
    return ".".join(Path(rel).with_suffix("").parts).removesuffix(".__init__")


def family_of_draw(call: ast.Call, name: str) -> str | None:
    """The generator family a call draws from without a given seed, or None."""
    parts = name.split(".")
    if name.startswith(("random.", "numpy.random.")) and parts[-1] not in NOT_DRAWS:
        return parts[0]
    if name in NEW_GENERATORS and not call.args and not call.keywords:
        return NEW_GENERATORS[name]  # seeded from the OS entropy, whatever the global seed
    if parts[0] == "torch" and (parts[-1] in TORCH_DRAWS and len(parts) == 2 or
                                parts[1:3] == ["nn", "init"] or
                                parts[1:2] == ["nn"] and parts[-1] in TORCH_LAYERS):
        return "torch"
    if parts[0] == "tensorflow" and ("random" in parts[1:-1] and parts[-1] not in NOT_DRAWS
                                     and "set_seed" not in parts[-1]):
        return "tensorflow"
    if name in ("jax.random.PRNGKey", "jax.random.key") and call.args and \
            _from_clock(call.args[0]):
        return "jax"
    return None


def _from_clock(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr in ("time", "time_ns", "urandom")
               for n in ast.walk(node))


def _seeded(source: PySource, seeding_functions: dict[str, set[str]]) -> set[str]:
    seeded: set[str] = set()
    for call, name in source.calls():
        if name in SEEDERS and not (call.args and _from_clock(call.args[0])):
            seeded |= SEEDERS[name]
    for node in source.walk():
        if isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", None)
            seeded |= seeding_functions.get(callee, set())
    return seeded


def _seeding_functions(tree: CodeTree) -> dict[str, set[str]]:
    """Functions of the tree (by name) whose bodies seed generators, e.g. ``set_seed``."""
    found: dict[str, set[str]] = {}
    for source in tree.python:
        for node in source.walk():
            if isinstance(node, ast.FunctionDef):
                families = {f for call in ast.walk(node) if isinstance(call, ast.Call)
                            for f in SEEDERS.get(source.dotted(call.func) or "", set())}
                if families:
                    found.setdefault(node.name, set()).update(families)
    return found


def _draws(source: PySource) -> dict[str, int]:
    """Family -> line of its first draw in the file."""
    first: dict[str, int] = {}
    for call, name in source.calls():
        family = family_of_draw(call, name)
        if family and (family not in first or call.lineno < first[family]):
            first[family] = call.lineno
    return first


def _imported_modules(entry: PySource, modules: dict[str, PySource]) -> list[PySource]:
    names = set()
    for node in entry.walk():
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return [s for n, s in modules.items() if s is not entry and any(
        n == name or n.endswith("." + name) for name in names)]


def _entry_point(entry: PySource, modules: dict[str, PySource],
                 seeding_functions: dict[str, set[str]]) -> list[Finding]:
    seeded = _seeded(entry, seeding_functions)
    findings = []
    reported: set[str] = set()
    for source in [entry, *_imported_modules(entry, modules)]:
        for family, line in sorted(_draws(source).items(), key=lambda item: item[1]):
            if family in seeded or family in reported:
                continue
            reported.add(family)
            findings.append(source.finding("randomness", "unseeded",
                                           _unseeded_message(family, entry, source), line))
    findings += _seeds_not_exposed(entry)
    return findings


def _unseeded_message(family: str, entry: PySource, source: PySource) -> str:
    via = "" if source is entry else f" (run by the entry point {entry.rel})"
    if family.endswith(":new"):
        return (f"makes a {FAMILIES[family.split(':')[0]]} generator without a seed: it starts "
                f"from the system's entropy, so no run can be repeated{via}")
    return f"draws from {FAMILIES[family]}'s generator, which the entry point {entry.rel} " \
        f"never seeds{via}"


def _seeds_not_exposed(entry: PySource) -> list[Finding]:
    """Seeds set to a constant in the script, with no command-line option to change them."""
    options = any(isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
        node.func, "id", None)) in OPTION_CALLS and any(
        isinstance(a, ast.Constant) and isinstance(a.value, str) and "seed" in a.value.lower()
        for a in node.args) for node in entry.walk())
    if options:
        return []
    return [entry.finding("randomness", "seed-not-exposed", f"the seed is fixed at "
                          f"{call.args[0].value!r} in the code, not exposed as an option, so "
                          "the variation over seeds cannot be measured", call.lineno)
            for call, name in entry.calls() if name in SEEDERS and call.args
            and isinstance(call.args[0], ast.Constant)]


def _settings(source: PySource) -> list[Finding]:
    """``torch.backends.cudnn.benchmark = True`` and ``deterministic = False``."""
    findings = []
    for node in source.walk():
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Constant):
            continue
        for target in node.targets:
            name = source.dotted(target)
            if name == "torch.backends.cudnn.benchmark" and node.value.value is True:
                findings.append(source.finding(
                    "randomness", "nondeterministic", "cuDNN benchmark mode picks kernels by "
                    "timing, so results can differ between runs of the same seed", node.lineno))
            elif name == "torch.backends.cudnn.deterministic" and node.value.value is False:
                findings.append(source.finding(
                    "randomness", "nondeterministic", "cuDNN set to non-deterministic "
                    "algorithms", node.lineno))
    return findings
