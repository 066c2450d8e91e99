"""Snakemake script: turn run records into the claims ledger and its measurements file."""

from replikit.evaluate.claims_table import write_ledger
from replikit.evaluate.ledger import build_ledger, hardware_comparability
from replikit.evaluate.samples import measurement_samples, write_samples
from replikit.fileio import read_json
from replikit.workflow import job, study

with job(snakemake):
    comparable, note = hardware_comparability(read_json(snakemake.input.env))
    records = [read_json(path) for path in snakemake.input.runs]
    ledger = build_ledger(
        study(snakemake.wildcards.study), records,
        hardware_comparable=comparable, hardware_note=note,
    )
    write_ledger(ledger, snakemake.output.ledger)
    write_samples(measurement_samples(ledger, records), snakemake.output.samples)
