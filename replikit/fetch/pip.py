"""Running pip for the fetch stage: its environment and the one line of its error to show."""

from __future__ import annotations

import os
import subprocess


def pip_error(done: subprocess.CompletedProcess[str]) -> str:
    """The line of pip's output that says what went wrong (its last ERROR line)."""
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or [f"exit status {done.returncode}"])[-1]


def quiet_env() -> dict[str, str]:
    """pip never asks a question and prints no warnings into the records."""
    return {**os.environ, "PIP_NO_INPUT": "1", "PYTHONWARNINGS": "ignore"}
