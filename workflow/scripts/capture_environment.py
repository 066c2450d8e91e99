"""Snakemake script: record the actual environment next to the declared hardware."""

import os

from replikit.environment import capture, compare, hardware_note, timing_comparable
from replikit.fetch.resolve import artifact_packages
from replikit.fileio import write_json
from replikit.workflow import job, study

with job(snakemake):
    env = capture()
    env["artifact_packages"] = artifact_packages(snakemake.input.artifacts)
    methods = snakemake.params.deployment
    env["software_deployment"] = (", ".join(methods) if methods
                                  else "the current environment (no conda or container)")
    env["slurm_job_id"] = os.environ.get("SLURM_JOB_ID")
    rows = compare(study(snakemake.wildcards.study).hardware.declared, env)
    env["declared_vs_actual"] = rows
    env["hardware_comparable"] = timing_comparable(rows)
    env["hardware_note"] = hardware_note(rows)
    write_json(snakemake.output.env, env)
