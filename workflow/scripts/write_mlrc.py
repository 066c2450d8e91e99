"""Snakemake script: write the MLRC paper draft (Markdown source, LaTeX, BibTeX, figures)."""

from pathlib import Path

from replikit.evaluate.ledger import read_ledger
from replikit.evaluate.verdicts import render_rules
from replikit.fileio import read_json
from replikit.publish.exports import report_date
from replikit.publish.mlrc import write_mlrc_draft
from replikit.workflow import optional_file, script_logging, study

with script_logging(snakemake.log[0]):
    manifest = study(snakemake.wildcards.study)
    write_mlrc_draft(
        manifest,
        read_ledger(snakemake.input.ledger),
        [read_json(path) for path in snakemake.input.runs],
        [read_json(path) for path in snakemake.input.artifacts],
        read_json(snakemake.input.env),
        snakemake.input.figures,
        Path(snakemake.output.tex).parent,
        when=report_date(snakemake.input.runs, snakemake.params.report_date,
                         fallback=[snakemake.input.ledger]),
        rules_markdown=render_rules(),
        contacts_file=optional_file(snakemake.input.contacts),
        notes_dir=manifest.dir / "notes",
    )
