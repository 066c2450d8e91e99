"""Snakemake script: fetch one artifact and write its record (see replikit.fetch.artifacts)."""

from replikit.fetch.artifacts import fetch_artifact
from replikit.fileio import write_json
from replikit.workflow import job, study

with job(snakemake):
    record = fetch_artifact(
        study(snakemake.wildcards.study), snakemake.wildcards.artifact, snakemake.params.dest,
        strict=snakemake.params.strict,
    )
    write_json(snakemake.output.record, record)
