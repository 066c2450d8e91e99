"""replikit: turn one reproducibility study of one ML paper into a Snakemake workflow.

The package holds the tested logic; the Snakemake workflow under ``workflow/`` and the
``replikit`` command line are thin layers over it.
"""

from replikit.errors import ReplikitError

__version__ = "0.1.0"
__all__ = ["ReplikitError", "__version__"]
