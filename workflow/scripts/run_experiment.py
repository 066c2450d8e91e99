"""Snakemake script: run one experiment with one seed (see replikit.run.harness.execute)."""

from replikit.run.harness import execute
from replikit.run.resources import pin_library_threads
from replikit.workflow import job, study

with job(snakemake):
    # Before the runner imports NumPy or torch: a timed job holds every core, not its runs.
    pin_library_threads(study(snakemake.wildcards.study), snakemake.wildcards.experiment)
    execute(
        study(snakemake.wildcards.study), snakemake.wildcards.experiment,
        int(snakemake.wildcards.seed), snakemake.input.artifacts, snakemake.output.record,
        profile=snakemake.params.experiment["profile"],
    )
