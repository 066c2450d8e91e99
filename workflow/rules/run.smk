rule run_experiment:
    """One experiment with one seed; a missing artifact gives a 'not run' record, not an error."""
    input:
        unpack(get_run_inputs),
    output:
        record="results/{study}/runs/{experiment}/seed={seed}/metrics.json",
    params:
        experiment=get_experiment_params,
    conda:
        get_run_env
    log:
        "logs/{study}/runs/{experiment}/seed={seed}.log",
    benchmark:
        "benchmarks/{study}/runs/{experiment}/seed={seed}.tsv"
    threads: get_threads
    resources:
        **RUN_RESOURCES,
    script:
        "../scripts/run_experiment.py"
