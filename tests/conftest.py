import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# The tests' networks are tiny: torch's intra-op threads only contend with each other (and, on a
# 2-core machine, with the subprocesses tests start). One thread, as RL Zoo's --num-threads 1.
torch.set_num_threads(1)


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


@pytest.fixture(scope="session")
def cartpole_runs(tmp_path_factory):
    """Two seeds of ``ddqn_prio`` on CartPole trained through RL Zoo, once per session.

    ``logs/ddqn_prio/CartPole-v1_1`` and ``_2`` under the returned folder; tests that add or
    change runs copy it first (``copy_cartpole_runs``).
    """
    folder = tmp_path_factory.mktemp("cartpole_runs")
    for seed in (0, 1):
        zoo_train(folder, "ddqn_prio", "CartPole-v1", 1000, "--seed", str(seed), "-params", "learning_starts:200")
    return folder


def copy_cartpole_runs(source, destination):
    """A private copy of the ``cartpole_runs`` folder (its ``logs/``) in ``destination``."""
    shutil.copytree(source, destination, dirs_exist_ok=True)
    return destination


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray instance for the whole session (Ape-X tests join it); its GCS address."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def zoo(tmp_path):
    """Run RL Zoo commands in a temporary folder; returns (run function, folder)."""

    def _run(*args, **kwargs):
        return run(list(args), cwd=tmp_path, **kwargs)

    _run.path = tmp_path
    return _run


def pytest_sessionfinish(session, exitstatus):
    """Stop the PostgreSQL server that ``scripts/test-services.sh`` started for this run (it leaves
    ``.test-services-started``): what the tests start, they stop. A server that was already running
    is left alone."""
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: the controller stops them at the end
        return
    if (ROOT / ".test-services-started").is_file():
        subprocess.run(["bash", str(ROOT / "scripts" / "test-services.sh"), "stop"], check=False, capture_output=True)
