rule audit_code:
    """Audit the paper's own code for the problems every reproducer meets (replikit.audit)."""
    input:
        record=get_audited_artifact_record,
    output:
        audit="results/{study}/audit.json",
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/audit.log",
    script:
        "../scripts/audit_code.py"
