"""Snakemake script: render a report source (the report or its claims detail) in one format,
with Quarto if installed, else pandoc."""

from replikit.publish.render import render
from replikit.workflow import job

with job(snakemake):
    render(snakemake.input.qmd, formats=(snakemake.params.format,))
