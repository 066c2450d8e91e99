# replikit: one reproducibility study of one paper, from artifacts to report.
#   snakemake --cores 8 --config study=<name>     (or the short form: study=<name>)
# Stages, one file each under workflow/rules/: fetch -> environment -> run -> evaluate -> report.
from snakemake.utils import min_version

min_version("9.0")

# Snakemake's own loader would expand an alias bomb; parse the config bounded first.
from replikit.safe_yaml import load_file as check_yaml_file

check_yaml_file("workflow/config.yaml")


configfile: "workflow/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/audit.smk"
include: "workflow/rules/environment.smk"
include: "workflow/rules/run.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


# Fetching needs the internet, which a cluster's compute nodes often lack: it runs where
# Snakemake runs (the login node), like the target rule.
localrules:
    all,
    fetch_artifact,


rule all:
    input:
        get_final_outputs,
    default_target: True


onsuccess:
    print_verdicts(config["study"])
