"""The re-run level: drive the original TensorFlow 1 code (FeiSun/BERT4Rec) end to end.

``run_original(ctx)`` follows the repository's README and ``run_ml-1m.sh``: copy the pinned
checkout to the run folder (the scripts write into ``./data``), generate the masked training
data with ``gen_data_fin.py``, then train and evaluate with ``run.py``, both in the declared
TensorFlow 1.12 environment (``envs/bert4rec-original.yaml``), and parse the metrics line
that ``run.py`` prints after evaluation::

    ndcg@1:..., hit@1:..., ndcg@5:..., hit@5:..., ndcg@10:..., hit@10:..., ap:..., valid_user:...

``run.py`` ranks each user's test item among 100 negatives sampled by popularity
(``use_pop_random=True``, its default), so the metrics are written under ``pop100/``; its
``ap`` with one relevant item is the reciprocal rank, written as ``pop100/mrr``.

The experiment declares one GPU: on a machine without one, or without the pinned checkout,
the harness records "not run" with the reason before this module is called.

The interpreter of the declared environment is, in order: ``params.python``; the
environment variable ``REPLIKIT_BERT4REC_PYTHON``; ``conda run -n <name>`` with the name in
the environment file when ``conda`` is on the PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from replikit.errors import ReplikitError

# run_ml-1m.sh, the ML-1m settings of the original repository.
ML1M_SETTINGS = {
    "max_seq_length": 200, "masked_lm_prob": 0.2, "max_predictions_per_seq": 40,
    "dim": 64, "batch_size": 256, "num_train_steps": 400_000, "prop_sliding_window": 0.5,
    "mask_prob": 1.0, "dupe_factor": 10, "pool_size": 10,
}
METRICS_LINE = re.compile(
    r"ndcg@1:(?P<ndcg1>[\d.eE+-]+), hit@1:(?P<hit1>[\d.eE+-]+)\W+ndcg@5:(?P<ndcg5>[\d.eE+-]+), "
    r"hit@5:(?P<hit5>[\d.eE+-]+), ndcg@10:(?P<ndcg10>[\d.eE+-]+), hit@10:(?P<hit10>[\d.eE+-]+), "
    r"ap:(?P<ap>[\d.eE+-]+), valid_user:(?P<users>[\d.eE+-]+)"
)
ENV_VAR = "REPLIKIT_BERT4REC_PYTHON"


def run_original(ctx: Any) -> dict[str, Any]:
    """Generate the data, train and evaluate with the original scripts; return their metrics."""
    params = ctx.params
    settings = {**ML1M_SETTINGS, **{k: v for k, v in params.items() if k in ML1M_SETTINGS}}
    dataset = params.get("dataset", "ml-1m")
    python = interpreter(params, ctx.study.dir.parent.parent)
    checkout = _copy_checkout(ctx.artifact("bert4rec-original"), Path(ctx.workdir) / "original")
    log_path = Path(ctx.workdir) / "original.log"
    signature = _signature(settings)
    _call(python + ["-u", "gen_data_fin.py", *_flags(gen_data_flags(dataset, settings, signature))],
          checkout, log_path)
    output = _call(python + ["-u", "run.py", *_flags(run_flags(dataset, settings, signature,
                                                                 checkout / "ckpt"))],
                   checkout, log_path)
    metrics = parse_metrics(output, where=str(log_path))
    return {"metrics": metrics, "device": "cuda (original TensorFlow code)",
            "extra": {"settings": settings, "log": str(log_path), "seed_note":
                      "the original scripts seed their own generators; the run's seed is not "
                      "passed to them"}}


def interpreter(params: dict[str, Any], root: Path) -> list[str]:
    """The command that starts Python in the declared TensorFlow 1.12 environment."""
    if params.get("python"):
        return [str(params["python"])]
    if os.environ.get(ENV_VAR):
        return [os.environ[ENV_VAR]]
    env_file = root / params.get("environment", "envs/bert4rec-original.yaml")
    if shutil.which("conda") and env_file.exists():
        name = (yaml.safe_load(env_file.read_text(encoding="utf-8")) or {}).get("name")
        if name:
            return ["conda", "run", "--no-capture-output", "-n", str(name), "python"]
    raise ReplikitError(
        "no interpreter for the original code's environment",
        where=str(env_file), expected=f"params.python, ${ENV_VAR}, or conda on the PATH",
        found="none of them",
        fix=f"create the environment (conda env create -f {env_file}) and rerun",
    )


def _signature(settings: dict[str, Any]) -> str:
    """The file-name signature run_ml-1m.sh builds from its settings."""
    s = settings
    return (f"-mp{s['mask_prob']}-sw{s['prop_sliding_window']}-mlp{s['masked_lm_prob']}"
            f"-df{s['dupe_factor']}-mpps{s['max_predictions_per_seq']}-msl{s['max_seq_length']}")


def gen_data_flags(dataset: str, s: dict[str, Any], signature: str) -> dict[str, Any]:
    """Arguments of gen_data_fin.py, as run_ml-1m.sh passes them."""
    return {"dataset_name": dataset, "max_seq_length": s["max_seq_length"],
            "max_predictions_per_seq": s["max_predictions_per_seq"],
            "mask_prob": s["mask_prob"], "dupe_factor": s["dupe_factor"],
            "masked_lm_prob": s["masked_lm_prob"],
            "prop_sliding_window": s["prop_sliding_window"], "signature": signature,
            "pool_size": s["pool_size"]}


def run_flags(dataset: str, s: dict[str, Any], signature: str, ckpt: Path) -> dict[str, Any]:
    """Arguments of run.py, as run_ml-1m.sh passes them."""
    stem = f"./data/{dataset}{signature}"
    return {"train_input_file": f"{stem}.train.tfrecord",
            "test_input_file": f"{stem}.test.tfrecord", "vocab_filename": f"{stem}.vocab",
            "user_history_filename": f"{stem}.his", "checkpointDir": str(ckpt / dataset),
            "signature": f"{signature}-{s['dim']}", "do_train": "True", "do_eval": "True",
            "bert_config_file": f"./bert_train/bert_config_{dataset}_{s['dim']}.json",
            "batch_size": s["batch_size"], "max_seq_length": s["max_seq_length"],
            "max_predictions_per_seq": s["max_predictions_per_seq"],
            "num_train_steps": s["num_train_steps"], "num_warmup_steps": 100,
            "learning_rate": 1e-4}


def _flags(values: dict[str, Any]) -> list[str]:
    return [f"--{key}={value}" for key, value in values.items()]


def _copy_checkout(source: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".git"))
    return target


def _call(command: list[str], cwd: Path, log_path: Path) -> str:
    """Run one step, append its output to the log, and fail with the log's tail."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "CUDA_VISIBLE_DEVICES":
                                 os.environ.get("CUDA_VISIBLE_DEVICES", "0")})
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}\n")
    if result.returncode != 0:
        raise ReplikitError(
            f"the original code failed (exit {result.returncode})", where=str(log_path),
            found=(result.stderr or result.stdout)[-2000:],
            fix="read the log; check the declared environment and the GPU")
    return result.stdout + "\n" + result.stderr


def parse_metrics(output: str, *, where: str = "run.py output") -> dict[str, float]:
    """The last metrics line run.py printed, as ``pop100/<metric>`` values.

    Examples
    --------
    >>> line = ("ndcg@1:0.28, hit@1:0.28, ndcg@5:0.44, hit@5:0.58, ndcg@10:0.48, "
    ...         "hit@10:0.69, ap:0.42, valid_user:6040.0")
    >>> parse_metrics(line)["pop100/hr@10"], parse_metrics(line)["pop100/mrr"]
    (0.69, 0.42)
    """
    matches = list(METRICS_LINE.finditer(output))
    if not matches:
        raise ReplikitError("run.py printed no metrics line", where=where,
                            expected="'ndcg@1:..., hit@1:..., ..., ap:..., valid_user:...'",
                            found=output[-500:], fix="check that do_eval=True and training ended")
    m = {k: float(v) for k, v in matches[-1].groupdict().items()}
    return {"pop100/hr@1": m["hit1"], "pop100/hr@5": m["hit5"], "pop100/hr@10": m["hit10"],
            "pop100/ndcg@1": m["ndcg1"], "pop100/ndcg@5": m["ndcg5"],
            "pop100/ndcg@10": m["ndcg10"], "pop100/mrr": m["ap"], "users": m["users"]}
