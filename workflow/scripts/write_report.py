"""Snakemake script: write the report's Quarto source, figures and tables."""

from pathlib import Path

from replikit.evaluate.rules_text import render_rules
from replikit.publish.exports import communication_markdown
from replikit.publish.report import write_report_source
from replikit.workflow import job, optional_file, results_of, study

with job(snakemake):
    manifest = study(snakemake.wildcards.study)
    results = results_of(snakemake)
    write_report_source(
        manifest, results, render_rules(claims=manifest.claims), Path(snakemake.output.qmd).parent,
        communication=communication_markdown(manifest, optional_file(snakemake.input.contacts),
                                             results.when),
    )
