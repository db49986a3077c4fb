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


# RL Zoo's --optimize arguments for one quick, reproducible search (no pruning, one short evaluation)
ZOO_OPTIMIZE = [
    "--optimize",
    "--n-jobs",
    "1",
    "--sampler",
    "random",
    "--pruner",
    "none",
    "--n-evaluations",
    "1",
    "--eval-episodes",
    "2",
]


def zoo_train_args(algo, env, steps, *extra, folder="logs", evaluate=False):
    """``-m rl_zoo3.train`` arguments: ``algo`` on ``env`` for ``steps`` steps into ``folder``."""
    args = ["-m", "rl_zoo3.train", "--algo", algo, "--env", env, "-n", str(steps), "-f", folder]
    return [*args, *([] if evaluate else ["--eval-freq", "-1"]), *extra]


def zoo_train(cwd, algo, env, steps, *extra, folder="logs", evaluate=False, **kwargs):
    """Train through RL Zoo in a subprocess (see ``zoo_train_args``); returns the finished process."""
    return run(zoo_train_args(algo, env, steps, *extra, folder=folder, evaluate=evaluate), cwd=cwd, **kwargs)


@pytest.fixture
def zoo(tmp_path):
    """Run RL Zoo commands in a temporary folder; returns (run function, folder)."""

    def _run(*args, **kwargs):
        return run(list(args), cwd=tmp_path, **kwargs)

    _run.path = tmp_path
    return _run
