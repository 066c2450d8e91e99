"""What the seed controls: seeding the global generators, and recording which ones a run used.

Randomness reaches a runner as ``ctx.seed`` only. The harness seeds Python's, NumPy's and
(when the study imported it) torch's global generators with it, and the run record says
which were seeded and which the run drew from, so a reader can tell a seed that changed the
result from one that never reached it.
"""

from __future__ import annotations

import os
import random
import sys
from typing import Any


def seed_everything(seed: int) -> list[str]:
    """Seed every generator a runner might touch, so CPU runs repeat bit for bit.

    Call it after the runner's module is imported (see :func:`execute`). Returns the
    generators seeded: ``random``, ``numpy`` and, when the study imported it, ``torch``.
    """
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    # Seed torch only when the study's code has imported it: importing it here would add
    # seconds to every run of studies that never use it.
    torch = sys.modules.get("torch")
    if torch is None:
        return ["random", "numpy"]
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return ["random", "numpy", "torch"]


def generator_states() -> dict[str, Any]:
    """The global generators' states, to tell afterwards which ones the run drew from."""
    import numpy as np

    states: dict[str, Any] = {"random": random.getstate(), "numpy": np.random.get_state()}
    torch = sys.modules.get("torch")
    if torch is not None:
        states["torch"] = torch.random.get_rng_state().clone()
    return states


def _drawn_from(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    import numpy as np

    drawn = []
    for name, state in before.items():
        if name == "numpy":
            same = all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
                       for x, y in zip(state, after[name], strict=True))
        elif name == "torch":
            same = bool((state == after[name]).all())
        else:
            same = state == after[name]
        if not same:
            drawn.append(name)
    return drawn


def seeding_record(seeded: list[str], before: dict[str, Any]) -> dict[str, Any]:
    """What the seed controlled: the generators seeded, and those the run drew from."""
    drawn = _drawn_from(before, generator_states())
    # torch imported by the run itself, after the harness seeded: its global generator was
    # not seeded here (the runner must seed what it uses from ctx.seed).
    late = [name for name in ("torch",) if name in sys.modules and name not in seeded]
    return {"seeded": seeded, "drawn_from": drawn, "imported_after_seeding": late,
            "note": ("generators a runner builds itself from ctx.seed (e.g. "
                     "numpy.random.default_rng(ctx.seed)) are not seen here")}
