"""Snakemake script: write the MLRC paper draft (Markdown source, LaTeX, BibTeX, figures)."""

from pathlib import Path

from replikit.evaluate.rules_text import render_rules
from replikit.publish.mlrc import write_mlrc_draft
from replikit.workflow import job, results_of, study

with job(snakemake):
    manifest = study(snakemake.wildcards.study)
    write_mlrc_draft(
        manifest, results_of(snakemake), snakemake.input.figures,
        Path(snakemake.output.tex).parent, rules_markdown=render_rules(claims=manifest.claims),
        notes_dir=manifest.dir / "notes",
    )
