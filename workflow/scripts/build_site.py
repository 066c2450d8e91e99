"""Snakemake script: the portfolio site over every study with results (replikit site)."""

from replikit.publish.site import build_site
from replikit.workflow import job

with job(snakemake):
    build_site(".", snakemake.output.site, today=snakemake.params.report_date or None)
