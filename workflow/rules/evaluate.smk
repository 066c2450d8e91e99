rule build_ledger:
    """One row per claim x level: reported, measured, drift, statistics, verdict, reason."""
    input:
        runs=get_run_records,
        env="results/{study}/env.json",
        manifest="studies/{study}/study.yaml",
    output:
        ledger="results/{study}/claims.csv",
        samples="results/{study}/samples.csv",
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/ledger.log",
    script:
        "../scripts/build_ledger.py"
