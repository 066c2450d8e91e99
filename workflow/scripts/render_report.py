"""Snakemake script: render one format of the report (Quarto if installed, else pandoc)."""

from replikit.publish.render import render
from replikit.workflow import job

with job(snakemake):
    render(snakemake.input.qmd, formats=(snakemake.wildcards.format,))
