"""Snakemake script: render one format of the report (Quarto if installed, else pandoc)."""

from replikit.publish.render import render
from replikit.workflow import script_logging

with script_logging(snakemake.log[0]):
    render(snakemake.input.qmd, formats=(snakemake.wildcards.format,))
