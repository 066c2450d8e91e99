rule write_report_source:
    """The Quarto source, its figures and tables; it renders precomputed results only.

    It reads the study's run records without naming them as inputs: the ledger is made from
    every one, so a changed run re-makes the ledger and then this (E x S inputs more would
    slow every plan of a large study)."""
    input:
        ledger="results/{study}/claims.csv",
        samples="results/{study}/samples.csv",
        artifacts=get_artifact_records,
        env="results/{study}/env.json",
        manifest="studies/{study}/study.yaml",
        contacts=get_contact_log,
        audit=get_audit,
        peers=get_peer_files,
    output:
        qmd="reports/{study}/report.qmd",
        # every claim's numbers, the verdicts as text, the cost per claim: the report's companion
        detail="reports/{study}/claims-detail.qmd",
        quarto="reports/{study}/_quarto.yml",
        figures=report(
            directory("reports/{study}/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
            labels={"figure": "{name}"},
        ),
        tables=report(
            directory("reports/{study}/tables"),
            patterns=["{name}.csv"],
            caption="../report/tables.rst",
            category="Tables",
            labels={"table": "{name}"},
        ),
    params:
        report_date=get_report_date,
        # Snakemake's benchmark: files of the runs, for the report's compute cost.
        benchmarks="benchmarks/{study}",
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/report_source.log",
    script:
        "../scripts/write_report.py"


rule render_report:
    """quarto render when Quarto is installed; otherwise pandoc (HTML, typst PDF, DOCX, LaTeX)."""
    input:
        qmd="reports/{study}/report.qmd",
        quarto="reports/{study}/_quarto.yml",
        figures="reports/{study}/figures",
    output:
        report=report(
            "reports/{study}/report.{format}",
            caption="../report/report.rst",
            category="Report",
            labels={"format": "{format}"},
        ),
    params:
        format="{format}",
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/render_{format}.log",
    wildcard_constraints:
        format="html|pdf|docx|tex",
    script:
        "../scripts/render_report.py"


rule render_claims_detail:
    """The report's companion, every claim's numbers and cost, as one HTML page."""
    input:
        qmd="reports/{study}/claims-detail.qmd",
        quarto="reports/{study}/_quarto.yml",
    output:
        detail=report(
            "reports/{study}/claims-detail.html",
            caption="../report/report.rst",
            category="Report",
            labels={"format": "claims detail (html)"},
        ),
    params:
        format="html",
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/render_claims_detail.log",
    script:
        "../scripts/render_report.py"


rule write_mlrc_draft:
    """The ML Reproducibility Challenge paper draft: LaTeX through pandoc, from the same results."""
    input:
        ledger="results/{study}/claims.csv",
        samples="results/{study}/samples.csv",
        artifacts=get_artifact_records,
        env="results/{study}/env.json",
        manifest="studies/{study}/study.yaml",
        figures="reports/{study}/figures",
        contacts=get_contact_log,
        audit=get_audit,
        notes=get_study_notes,
    output:
        tex="reports/{study}/mlrc/main.tex",
        source="reports/{study}/mlrc/main.md",
        bib="reports/{study}/mlrc/references.bib",
        figures=directory("reports/{study}/mlrc/figures"),
    params:
        report_date=get_report_date,
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/{study}/mlrc_draft.log",
    script:
        "../scripts/write_mlrc.py"


rule site:
    """The reading group's portfolio over every study with results: snakemake site."""
    input:
        ledgers=get_study_ledgers,
    output:
        site=directory("reports/site"),
    params:
        report_date=get_report_date,
    conda:
        "../../envs/replikit.yaml"
    log:
        "logs/site.log",
    script:
        "../scripts/build_site.py"
