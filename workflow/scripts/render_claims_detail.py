"""Snakemake script: the claims-detail companion as HTML (Quarto if installed, else pandoc)."""

from replikit.publish.render import render
from replikit.workflow import job

with job(snakemake):
    render(snakemake.input.qmd, formats=("html",))
