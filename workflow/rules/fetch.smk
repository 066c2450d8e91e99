rule fetch_artifact:
    """Fetch one artifact (sha256-verified, cached); offline gives an 'unavailable' record."""
    output:
        record="results/{study}/artifacts/{artifact}.json",
    params:
        spec=get_artifact_params,
        strict=lambda wildcards: config["strict"],
        dest=lambda wildcards: f"resources/{wildcards.study}/{wildcards.artifact}",
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/fetch/{artifact}.log",
    script:
        "../scripts/fetch_artifact.py"
