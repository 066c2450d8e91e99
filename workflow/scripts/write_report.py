"""Snakemake script: write the report's Quarto source, figures and tables."""

from pathlib import Path

from replikit.evaluate.ledger import read_ledger
from replikit.evaluate.verdicts import render_rules
from replikit.fileio import read_json
from replikit.publish.exports import communication_markdown, report_date
from replikit.publish.report import write_report_source
from replikit.workflow import optional_file, script_logging, study

with script_logging(snakemake.log[0]):
    manifest = study(snakemake.wildcards.study)
    when = report_date(snakemake.input.runs, snakemake.params.report_date,
                       fallback=[snakemake.input.ledger])
    write_report_source(
        manifest,
        read_ledger(snakemake.input.ledger),
        [read_json(path) for path in snakemake.input.runs],
        [read_json(path) for path in snakemake.input.artifacts],
        read_json(snakemake.input.env),
        render_rules(),
        Path(snakemake.output.qmd).parent,
        communication=communication_markdown(manifest, optional_file(snakemake.input.contacts),
                                             when),
        benchmarks=snakemake.params.benchmarks,
    )
