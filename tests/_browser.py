"""Headless Chromium for the tests that look at HTML: the report and the portfolio site.

Each run gets a profile folder of its own under ``root`` and the flags that keep Chromium
quiet in a container; the test skips, saying why, when Chromium is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(root: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    """Open ``page`` (a file) in headless Chromium with ``args`` (e.g. ``--dump-dom``)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    profile = root / f"chromium-profile-{len(list(root.glob('chromium-profile-*')))}"
    command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
               "--hide-scrollbars", f"--user-data-dir={profile}",
               "--virtual-time-budget=10000", *args, page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done
