"""Runners of the {{ name }} study (the runner contract: docs/writing-a-study.md).

A runner takes a RunContext (ctx.params, ctx.seed, ctx.artifact(name) -> Path) and returns
{"metrics": {...}, "folds": [...], "extra": {...}}. Take every random number from ctx.seed.
"""

from replikit.errors import ReplikitError


def run(ctx):
    raise ReplikitError(
        "this study's runner is not written yet",
        where=__file__,
        fix="implement run(ctx) to train and evaluate, returning {'metrics': {...}}",
    )
