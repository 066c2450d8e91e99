rule capture_environment:
    """The software and hardware this study runs on, against what the paper declares."""
    output:
        env="results/{study}/env.json",
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/environment.log",
    script:
        "../scripts/capture_environment.py"
