"""Snakemake script: run one experiment with one seed (see replikit.run.harness.execute)."""

from replikit.run.harness import execute
from replikit.workflow import job, study

with job(snakemake):
    execute(
        study(snakemake.wildcards.study), snakemake.wildcards.experiment,
        int(snakemake.wildcards.seed), snakemake.input.artifacts, snakemake.output.record,
        profile=snakemake.params.experiment["profile"],
    )
