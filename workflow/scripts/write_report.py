"""Snakemake script: write the report's Quarto source, figures and tables."""

from pathlib import Path

from replikit.fileio import read_json
from replikit.ledger import read_ledger
from replikit.report import write_report_source
from replikit.verdicts import render_rules
from replikit.workflow import script_logging, study

with script_logging(snakemake.log[0]):
    write_report_source(
        study(snakemake.wildcards.study),
        read_ledger(snakemake.input.ledger),
        [read_json(path) for path in snakemake.input.runs],
        [read_json(path) for path in snakemake.input.artifacts],
        read_json(snakemake.input.env),
        render_rules(),
        Path(snakemake.output.qmd).parent,
        benchmarks=snakemake.params.benchmarks,
    )
