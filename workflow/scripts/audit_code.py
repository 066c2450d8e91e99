"""Snakemake script: audit the study's original code (see replikit.audit.audit_record)."""

from replikit.audit import audit_record
from replikit.fileio import read_json, write_json
from replikit.workflow import job

with job(snakemake):
    record = read_json(snakemake.input.record)
    write_json(snakemake.output.audit, audit_record(snakemake.wildcards.study, record))
