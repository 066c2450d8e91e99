# Helpers for the stage files: config validation and input functions. The logic lives in
# replikit.workflow, where tests reach it. The run rule's functions are called once per run
# job (E experiments x S seeds): they read values computed once per experiment, and
# @rk.signature_once spares Snakemake inspecting them on every call. Its resources and
# threads are constants in most plans (settle_run_rule).
from pathlib import Path

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

from replikit import workflow as rk
from replikit.redo import records_to_redo
from replikit.errors import ReplikitError
from replikit.study.check import check_study_files
from replikit.run.resources import rule_threads, run_rule_resources, slurm_site


# Absolute, because check_config also runs after parsing (see accept_shortform below).
CONFIG_SCHEMA = str(Path(workflow.basedir, "workflow", "schemas", "config.schema.yaml"))
ENVS = str(Path(workflow.basedir, "envs"))
USES_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method


def check_config(config):
    rk.normalize_config(config, rk.BOOLEAN_KEYS)
    validate(config, schema=CONFIG_SCHEMA)


def check_study(config, settings):
    """Check first, run second: the manifest, contact log, notes and lock, before any job.

    Then retry what did not work: an artifact recorded unavailable that can be had now
    (looked for unless offline=true) and unreadable records are made again, as if named by
    --forcerun, and so are run records cut short (replikit.redo.records_to_redo).
    """
    rk.new_plan()
    check_config(config)
    try:
        check_study_files(config["study"])
    except ReplikitError as error:
        raise WorkflowError(str(error))
    settle_run_rule(config["study"])
    if not workflow.remote_exec:
        redo = records_to_redo(config["study"], offline=config["offline"])
        settings.forcerun = frozenset(settings.forcerun) | frozenset(redo)


check_config(config)
# `snakemake study=x` passes "study=x" as a target; take such words as config entries.
# The study is checked once the targets are known (a short form may name another).
rk.accept_shortform(workflow, config, on_config=check_study)


wildcard_constraints:
    study=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    artifact=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    experiment=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    seed=r"\d+",


def get_final_outputs(wildcards):
    return rk.final_outputs(config["study"], config["formats"], config["mlrc"])


def get_study_ledgers(wildcards):
    return rk.study_ledgers()


def get_audit(wildcards):
    return rk.audit_record(wildcards.study)


def get_audited_artifact_record(wildcards):
    return rk.audited_artifact_record(wildcards.study)


def get_peer_files(wildcards):
    return rk.peer_files(wildcards.study)


def get_contact_log(wildcards):
    return rk.contact_log(wildcards.study)


def get_study_notes(wildcards):
    return rk.study_notes(wildcards.study)


def get_report_date(wildcards):
    return config["report_date"]


def get_artifact_params(wildcards):
    return rk.artifact_params(wildcards.study, wildcards.artifact)


@rk.signature_once
def get_experiment_params(wildcards):
    profile = rk.chosen_profile(wildcards.study, config)
    return rk.experiment_params(wildcards.study, wildcards.experiment, profile)


@rk.signature_once
def get_run_inputs(wildcards):
    """A run's inputs (one call for both): the records of the artifacts it needs, and the
    study files its runner depends on."""
    return {"artifacts": rk.needed_artifact_records(wildcards.study, wildcards.experiment),
            "code": rk.study_code(wildcards.study, wildcards.experiment)}


@rk.signature_once
def get_run_env(wildcards):
    """The conda environment the experiment names (envs/<env>.yaml), else envs/replikit.yaml;
    none when conda deploys no software (Snakemake would still expand it for every job)."""
    if not USES_CONDA:
        return None
    return rk.run_env(wildcards.study, wildcards.experiment, ENVS)


def get_run_records(wildcards):
    return rk.run_records(wildcards.study)


def get_installed_code_records(wildcards):
    return rk.installed_code_records(wildcards.study)


def get_artifact_records(wildcards):
    return rk.artifact_records(wildcards.study)


@rk.signature_once
def get_threads(wildcards):
    """The run's threads; a timed run takes every core, so that it runs alone (locally only:
    on a cluster it asks for an exclusive node instead, see replikit.run.resources)."""
    return rule_threads(rk.study(wildcards.study), wildcards.experiment, run_cores())


def run_cores():
    return workflow.resource_settings.cores if workflow.local_exec else None


# gpu, mem_mb, runtime, slurm_partition, slurm_extra of a run (replikit.run.resources), with
# the site's SLURM settings (--configfile, so known when the rules are made).
SLURM_SITE = slurm_site(config)
RUN_RESOURCES = {
    key: rk.signature_once(getter)
    for key, getter in run_rule_resources(
        lambda study, experiment: rk.run_resources(study, experiment, SLURM_SITE)
    ).items()
}


def settle_run_rule(study_name):
    """What every run of the study asks alike becomes a constant of the run rule, the rest
    stays per experiment: Snakemake then evaluates no callable for it on each job."""
    rk.settle_resources(
        workflow.get_rule("run_experiment"),
        {"_cores": get_threads, **RUN_RESOURCES},
        rk.alike_run_resources(study_name, SLURM_SITE, run_cores()),
        workflow.resource_settings,
    )


def print_verdicts(study_name):
    from replikit.cli.status import print_status

    print_status(study_name)
