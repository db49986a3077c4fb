import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args, cwd, env=None, timeout=300, check=True):
    """Run a real command (``python -m ...`` when args start with ``-m``) and return the result."""
    cmd = [sys.executable, *args] if args[0] in ("-m", "-c", "-S") else list(args)
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    result = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{cmd} exited {result.returncode}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
    return result


@pytest.fixture
def zoo(tmp_path):
    """Run RL Zoo commands in a temporary folder; returns (run function, folder)."""

    def _run(*args, **kwargs):
        return run(list(args), cwd=tmp_path, **kwargs)

    _run.path = tmp_path
    return _run
