rule capture_environment:
    """The software and hardware this study runs on, against what the paper declares."""
    input:
        # Installed code artifacts: their packages' versions go into env.json. Data is no
        # input: retrying an unavailable data set must not capture the environment again.
        artifacts=get_installed_code_records,
    output:
        env="results/{study}/env.json",
    params:
        # --software-deployment-method (conda, apptainer) or none: the current environment.
        deployment=lambda wildcards: sorted(
            str(m).lower() for m in workflow.deployment_settings.deployment_method
        ),
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/environment.log",
    script:
        "../scripts/capture_environment.py"
