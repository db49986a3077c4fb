import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# The tests' networks are tiny: torch's intra-op threads only contend with each other (and, on a
# 2-core machine, with the subprocesses tests start). One thread, as RL Zoo's --num-threads 1.
torch.set_num_threads(1)

# A suite started in the background by a non-interactive shell (`pytest ... &` in a script) runs
# with SIGINT ignored, and every command it starts inherits that: a Python child then installs no
# KeyboardInterrupt handler, and the tests that press Ctrl-C on a command would see it ignored.
# The tests are written for a terminal's Ctrl-C; so the suite makes SIGINT what a terminal gives
# (the children's SIGINT is then the default again, as a caught signal is reset by exec).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def command_env(env=None):
    """The environment of a command a test starts: ours, unbuffered, one OpenMP thread, plus ``env``."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", **(env or {})}


def run(args, cwd, env=None, timeout=300, check=True):
    """Run a real command (``python -m ...`` when args start with ``-m``) and return the result."""
    cmd = [sys.executable, *args] if args[0] in ("-m", "-c", "-S") else list(args)
    result = subprocess.run(cmd, cwd=cwd, env=command_env(env), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{cmd} exited {result.returncode}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
    return result


class ForkRunner:
    """:func:`run` for ``-m MODULE`` commands through one pre-importing server (``tests/forkserver.py``):
    each command is still its own process, started as ``python -m`` would start it, minus the ~3 s
    of importing torch, SB3 and Optuna again. For tables of short commands; signals, kills and
    installs keep :func:`run`."""

    def __init__(self):
        self._server = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "forkserver.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=command_env(),
            start_new_session=True,
        )
        assert self._server.stdout.readline().strip() == "ready"
        self._count = 0
        self._outputs = Path(tempfile.mkdtemp(prefix="forkrun"))  # not in the command's folder

    def __call__(self, args, cwd, env=None, timeout=300):
        assert args[0] == "-m", args
        self._count += 1
        out = self._outputs / str(self._count)
        request = {
            "module": args[1],
            "args": [str(a) for a in args[2:]],
            "cwd": str(cwd),
            "env": command_env(env),
            "stdout": f"{out}.out",
            "stderr": f"{out}.err",
        }
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        ready, _, _ = select.select([self._server.stdout], [], [], timeout)
        if not ready:
            self.close(kill=True)
            raise subprocess.TimeoutExpired([sys.executable, *args], timeout)
        rc = json.loads(self._server.stdout.readline())["rc"]
        stdout, stderr = (Path(f"{out}.{ext}") for ext in ("out", "err"))
        result = subprocess.CompletedProcess([sys.executable, *args], rc, stdout.read_text(), stderr.read_text())
        stdout.unlink()
        stderr.unlink()
        return result

    def close(self, kill=False):
        """End the server: at the end of its input, or (a command ran past its time) by a kill of its
        process group, the command with it."""
        with contextlib.suppress(OSError):
            self._server.stdin.close()
        try:
            self._server.wait(timeout=0 if kill else 30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._server.pid, signal.SIGKILL)
            self._server.wait()
        shutil.rmtree(self._outputs, ignore_errors=True)


@pytest.fixture(scope="session")
def forkrun():
    """A :class:`ForkRunner` for this test process (under xdist: one per worker)."""
    runner = ForkRunner()
    yield runner
    runner.close()


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
