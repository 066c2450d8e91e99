"""Candidate claims from tables we write ourselves: LaTeX, a PDF made with typst, Markdown.

The same results table is written as LaTeX and as typst (compiled to PDF), with a two-row
header (a group over two columns, labels spanning both rows), a data set spanning two
model rows, ± spreads, bold best values, an underlined runner-up, percentages and times;
both readers must yield the same claims.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typst
import yaml

from replikit.cli import main
from replikit.errors import ReplikitError
from replikit.extract import Options, extract_claims
from replikit.study import Claim

LATEX = r"""\documentclass{article}
\begin{document}
\section{Experiments}
\begin{table}[t]
\caption{Results on ML-1m and Steam. Best values in bold.}
\begin{tabular}{ll|cc|c}
\toprule
\multirow{2}{*}{Data} & \multirow{2}{*}{Model} & \multicolumn{2}{c|}{Quality} & Cost \\
\cmidrule(lr){3-4}
 & & NDCG@10 & Acc (\%) & Time \\
\midrule
\multirow{2}{*}{ML-1m} & BERT4Rec & \textbf{0.482} $\pm$ 0.003 & 85.30\% & 1:02:03 \\
 & SASRec & \underline{0.470} & $\mathbf{86.15 \pm 1.10}$ & 12.5 s \\
\hline
Steam & BERT4Rec & {\bfseries 0.501} & 90.10 & 0:45:00 \\
\bottomrule
\end{tabular}
\end{table}
\end{document}
"""

TYPST = """#set page(width: 16cm, height: auto, margin: 1cm)
= Experiments
#figure(
  table(
    columns: 5,
    table.cell(rowspan: 2)[Data], table.cell(rowspan: 2)[Model],
    table.cell(colspan: 2)[Quality], [Cost],
    [NDCG\\@10], [Acc (%)], [Time],
    table.cell(rowspan: 2)[ML-1m], [BERT4Rec], [*0.482* ± 0.003], [85.30%], [1:02:03],
    [SASRec], [#underline[0.470]], [*86.15* ± 1.10], [12.5 s],
    [Steam], [BERT4Rec], [*0.501*], [90.10], [0:45:00],
  ),
  caption: [Results on ML-1m and Steam. Best values in bold.],
)
"""

# The corner cell "Data" names the rows' axis and the "Model" column the methods: ids are
# method-dataset-metric.
# id: (reported, decimals, kind, metric, higher_is_better)
EXPECTED = {
    "bert4rec-ml-1m-ndcg-10": (0.482, 3, "value", "ndcg@10", True),
    "bert4rec-ml-1m-acc": (85.3, 2, "value", "acc", True),
    "bert4rec-ml-1m-time": (3723, 0, "time", "time_s", False),
    "sasrec-ml-1m-ndcg-10": (0.47, 3, "value", "ndcg@10", True),
    "sasrec-ml-1m-acc": (86.15, 2, "value", "acc", True),
    "sasrec-ml-1m-time": (12.5, 1, "time", "time_s", False),
    "bert4rec-steam-ndcg-10": (0.501, 3, "value", "ndcg@10", True),
    "bert4rec-steam-acc": (90.1, 2, "value", "acc", True),
    "bert4rec-steam-time": (2700, 0, "time", "time_s", False),
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tables")
    (folder / "paper.tex").write_text(LATEX, encoding="utf-8")
    (folder / "paper.typ").write_text(TYPST, encoding="utf-8")
    typst.compile(str(folder / "paper.typ"), output=str(folder / "paper.pdf"))
    return {"latex": folder / "paper.tex", "pdf": folder / "paper.pdf"}


def summary(entries: list[dict]) -> dict[str, tuple]:
    return {e["claim"]["id"]: (e["claim"]["reported"], e["claim"]["decimals"],
                               e["claim"].get("kind", "value"), e["claim"]["metric"],
                               e["claim"]["higher_is_better"]) for e in entries}


@pytest.mark.parametrize("kind", ["latex", "pdf"])
def test_values_digits_units_and_labels(sources, kind):
    entries, provenance = extract_claims(str(sources[kind]))
    assert summary(entries) == EXPECTED
    assert provenance["sha256"] and provenance["file"].endswith(sources[kind].name)
    for entry in entries:
        Claim.model_validate(entry["claim"])  # fits the manifest as it is


@pytest.mark.parametrize("kind", ["latex", "pdf"])
def test_spreads_marks_and_comments(sources, kind):
    entries, _ = extract_claims(str(sources[kind]))
    by_id = {e["claim"]["id"]: e for e in entries}
    first = by_id["bert4rec-ml-1m-ndcg-10"]
    assert "spread: ± 0.003 as the paper prints it" in first["comments"]
    assert "bold in the table" in first["comments"]
    # Bold marks the largest value of each data set's rows: higher is better, and says so.
    assert "higher_is_better: the bold values are the largest" in first["comments"]
    runner_up = by_id["sasrec-ml-1m-ndcg-10"]
    assert "underlined in the table" in runner_up["comments"]
    acc = by_id["sasrec-ml-1m-acc"]
    assert "spread: ± 1.10 as the paper prints it" in acc["comments"]
    assert acc["comments"][0].endswith("unit % (reported in percent)")
    assert acc["claim"]["tolerance"] == {"absolute": 1.1}  # the printed ± ...
    assert any(c.startswith("tolerance: the printed ± 1.10") for c in acc["comments"])  # why
    bert_acc = by_id["bert4rec-ml-1m-acc"]  # ... else 5 units of the last printed digit
    assert bert_acc["claim"]["tolerance"] == {"absolute": 0.05}
    assert acc["claim"]["dataset"] == "ML-1m"
    time = by_id["bert4rec-ml-1m-time"]
    assert time["claim"]["tolerance"] == {"relative": 0.5}
    assert time["claim"]["text"] == "BERT4Rec takes 1:02:03 on ML-1m"
    source = time["claim"]["source"]
    assert "Results on ML-1m and Steam table, ML-1m / BERT4Rec row, Cost Time column" in source
    assert ("Experiments, line 6" if kind == "latex" else "page 1") in source


def test_options_choose_rows_columns_names_and_metrics(sources):
    options = Options(rows=["*sasrec"], columns=["quality*"],
                      names={"ML-1m": "ml1m", "NDCG@10": "ndcg10"},
                      metrics={"Quality Acc (%)": "accuracy_pct"})
    entries, _ = extract_claims(str(sources["latex"]), options)
    assert [(e["claim"]["id"], e["claim"]["metric"]) for e in entries] == [
        ("sasrec-ml1m-ndcg10", "ndcg@10"), ("sasrec-ml1m-acc", "accuracy_pct")]


MARKDOWN = """# Results

| Model | RMSE | Time |
|:--|--:|:--|
| [SVD](https://example.org/svd) | 0.934 | 0:00:06 |
| **kNN** | 0.98  | 0:01:02 |
"""


def test_markdown_digits_lost_to_a_dropped_trailing_zero(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(MARKDOWN)
    entries, _ = extract_claims(str(path))
    knn = {e["claim"]["id"]: e for e in entries}["knn-rmse"]
    assert (knn["claim"]["reported"], knn["claim"]["decimals"]) == (0.98, 3)
    assert any("trailing zero was dropped" in c for c in knn["comments"])
    kept, _ = extract_claims(str(path), Options(keep_printed_digits=True))
    assert {e["claim"]["id"]: e["claim"]["decimals"] for e in kept}["knn-rmse"] == 2


def test_cli_writes_yaml_and_reports_what_changed(tmp_path, capsys):
    path, out = tmp_path / "README.md", tmp_path / "claims.yaml"
    path.write_text(MARKDOWN)
    assert main(["claims", "extract", str(path), "--out", str(out), "--name", "SVD=t1"]) == 0
    first = yaml.safe_load(out.read_text())["claims"]
    assert [c["id"] for c in first] == ["t1-rmse", "t1-time", "knn-rmse", "knn-time"]
    assert "# sha256: " in out.read_text() and "  # printed '0.934'" in out.read_text()
    capsys.readouterr()
    # A new version of the table: one value changed, one row added, one removed.
    path.write_text(MARKDOWN.replace("0.934", "0.936").replace(
        "| **kNN** | 0.98  | 0:01:02 |", "| NMF | 0.963 | 0:00:06 |"))
    assert main(["claims", "extract", str(path), "--out", str(out), "--name", "SVD=t1"]) == 0
    report = capsys.readouterr().out
    assert "~ t1-rmse: text 'SVD has RMSE 0.934 on Results' -> 'SVD has RMSE 0.936 on " \
           "Results'; reported 0.934 -> 0.936" in report
    assert "+ nmf-rmse: 0.963" in report and "- knn-rmse: 0.98" in report
    assert "changes since" in report and "t1-time" not in report


def test_unknown_format_and_missing_file_are_clear_errors(tmp_path):
    (tmp_path / "paper.docx").write_text("x")
    with pytest.raises(ReplikitError, match="no table reader"):
        extract_claims(str(tmp_path / "paper.docx"))
    with pytest.raises(ReplikitError, match="no such file"):
        extract_claims(str(tmp_path / "missing.tex"))
    with pytest.raises(ReplikitError, match="no study was given"):
        extract_claims("code:README.md")
