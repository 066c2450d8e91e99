"""Snakemake script: run one experiment with one seed (see replikit.run.harness.execute)."""

from replikit.run.harness import execute
from replikit.workflow import script_logging, study

with script_logging(snakemake.log[0]):
    execute(
        study(snakemake.wildcards.study), snakemake.wildcards.experiment,
        int(snakemake.wildcards.seed), snakemake.input.artifacts, snakemake.output.record,
        profile=snakemake.params.experiment["profile"],
    )
