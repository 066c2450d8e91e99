"""Running one experiment with one seed: the harness, its records, its resources."""

from replikit.run.harness import NotRunnable

__all__ = ["NotRunnable"]
