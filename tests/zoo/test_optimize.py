"""Hyperparameter search at scale: storages, heartbeats, metrics per trial, ``sb3-atari study``.

The PostgreSQL tests use a real server (``scripts/test-services.sh`` starts it on 127.0.0.1;
the README's test command runs that script) at ``SB3_ATARI_TEST_POSTGRES``.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import warnings

import numpy as np
import optuna
import pytest
import yaml
from optuna.storages.journal import JournalFileBackend

from sb3_atari_ext.zoo.optimize import open_storage, retry_callback
from tests.conftest import ZOO_OPTIMIZE, run, zoo_train, zoo_train_args

pytestmark = pytest.mark.slow  # real subprocesses, servers or browsers

#: scripts/test-services.sh gives the role a password found nowhere else: secret scans look for it bare
POSTGRES = os.environ.get(
    "SB3_ATARI_TEST_POSTGRES", "postgresql+psycopg://sb3atari:pw-only-in-tests-4f9c@127.0.0.1:5432/sb3atari_test"
)
FAST_HEARTBEAT = {"SB3_ATARI_EXT_HEARTBEAT": "1", "SB3_ATARI_EXT_GRACE": "2"}


def optimize_args(n_trials, steps=300, *extra):
    search = ["--n-trials", str(n_trials), *ZOO_OPTIMIZE, "-params", "learning_starts:100", *extra]
    return zoo_train_args("ddqn_prio", "CartPole-v1", steps, *search, evaluate=True)


def load(storage, name):
    return optuna.load_study(study_name=name, storage=open_storage(storage))


def test_embedded_storage_metrics_per_trial_and_study_report(tmp_path):
    run(optimize_args(2), cwd=tmp_path)
    journal = tmp_path / "logs" / "ddqn_prio" / "optuna.log"
    assert journal.is_file()  # no --storage: an embedded journal in logs/, no server needed
    study = load(str(journal), "ddqn_prio-CartPole-v1")
    trials = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert [t.number for t in trials] == [0, 1]
    assert study.user_attrs["sb3_atari_ext.algo"] == "ddqn_prio"
    for trial in trials:
        metrics_file = tmp_path / "logs" / "ddqn_prio" / "optimize_CartPole-v1" / f"trial_{trial.number}" / "metrics.yml"
        records = yaml.safe_load(metrics_file.read_text())
        assert len(records) >= 10 and records[-1]["timesteps"] >= 300
        trained = [r for r in records if "loss" in r]
        assert trained and {"q_mean", "q_max", "td_error"} <= set(trained[-1])
        assert "episode_reward" in records[-1]
        assert trial.user_attrs["metrics"] == records[-1]  # the summary stored with the trial

    result = run(
        [
            "-m",
            "sb3_atari_ext.cli",
            "study",
            "--storage",
            str(journal),
            "--study-name",
            "ddqn_prio-CartPole-v1",
            "--out",
            "best.yml",
        ],
        cwd=tmp_path,
    )
    best = study.best_trial
    assert f"best trial {best.number}" in result.stdout
    assert "parameter importances: not computed (" in result.stdout  # too few trials for them to mean anything
    conf = yaml.safe_load((tmp_path / "best.yml").read_text())["CartPole-v1"]
    assert conf["gamma"] == pytest.approx(1 - best.params["one_minus_gamma"])
    assert conf["batch_size"] == 2 ** best.params["batch_size_pow"]
    # policy_kwargs merged as a person would write them, not as {**a, **b}
    assert conf["policy_kwargs"].startswith("dict(") and "**" not in conf["policy_kwargs"]
    png = (tmp_path / "best.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000  # a drawn plot, not an empty canvas
    # the yaml is ready to use
    zoo_train(tmp_path, "ddqn_prio", "CartPole-v1", 200, "--conf-file", "best.yml", folder="again")
    assert (tmp_path / "again" / "ddqn_prio" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()


def test_two_workers_share_one_postgresql_study(tmp_path):
    name = f"two-workers-{uuid.uuid4().hex[:8]}"
    args = optimize_args(2, 300, "--storage", POSTGRES, "--study-name", name)
    env = {**os.environ, "OMP_NUM_THREADS": "1", **FAST_HEARTBEAT}
    workers = [
        subprocess.Popen(
            [sys.executable, *args, "-f", f"logs{i}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err[-2500:] for _, err in outputs]
    trials = load(POSTGRES, name).trials
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]  # distinct numbers, none lost
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    # RL Zoo pickles the study (report_*.pkl): no file of the run holds the password
    password = POSTGRES.split("://", 1)[1].split("@")[0].split(":", 1)[1].encode()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("report_") and p.suffix == ".pkl" for p in written)
    assert not [p for p in written if password in p.read_bytes()]  # in any form, not only inside a URL


@pytest.mark.parametrize(
    "url, masked",
    [
        ("postgresql+psycopg://:secret@host/db", "postgresql+psycopg://:***@host/db"),
        ("postgresql+psycopg://user@host/db?password=secret", "postgresql+psycopg://user@host/db?password=***"),
        ("postgresql+psycopg://user:p@ss@host:5432/db", "postgresql+psycopg://user:***@host:5432/db"),
        ("postgresql://user:a/b@host/db?sslmode=require", "postgresql://user:***@host/db?sslmode=require"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("logs/ddqn_prio/optuna.log", "logs/ddqn_prio/optuna.log"),
    ],
)
def test_every_form_of_password_is_masked(url, masked):
    from sb3_atari_ext.zoo.optimize import redact

    assert redact(url) == masked


def test_pickled_storage_keeps_no_password():
    import pickle

    data = pickle.dumps(open_storage(POSTGRES))
    password = POSTGRES.split("://", 1)[1].split("@")[0].split(":", 1)[1].encode()
    assert password not in data and b":***@" in data


def test_killed_worker_trial_becomes_fail_and_is_retried(tmp_path):
    name = f"killed-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "OMP_NUM_THREADS": "1", **FAST_HEARTBEAT}
    long_run = optimize_args(1, 200_000, "--storage", POSTGRES, "--study-name", name)
    worker = subprocess.Popen(
        [sys.executable, *long_run], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if any(t.state == optuna.trial.TrialState.RUNNING for t in load(POSTGRES, name).trials):
                    break
            except KeyError:  # the study does not exist yet
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the first worker never started a trial")
        time.sleep(2)  # a few heartbeats
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    (stuck,) = load(POSTGRES, name).trials
    assert stuck.state == optuna.trial.TrialState.RUNNING  # nobody has noticed yet
    time.sleep(3)  # past the grace period
    run(optimize_args(1, 300, "--storage", POSTGRES, "--study-name", name), cwd=tmp_path, env=FAST_HEARTBEAT)
    trials = {t.number: t for t in load(POSTGRES, name).trials}
    assert trials[0].state == optuna.trial.TrialState.FAIL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retried = [t for t in trials.values() if type(retry_callback(1)).retried_trial_number(t) == 0]
    assert len(retried) == 1 and retried[0].state == optuna.trial.TrialState.COMPLETE
    assert retried[0].params == trials[0].params  # the same hyperparameters, tried again


@pytest.mark.parametrize(
    "storage, message",
    [
        ("foo://nowhere/db", "cannot open the Optuna storage foo://nowhere/db"),
        ("results.txt", "neither a journal file"),
        # a driver that is not installed: named, with the install line, before anything is built
        ("postgresql+pg8000://u:hunter2@h/db", "postgresql+pg8000://u:***@h/db needs the pg8000 package"),
        ("postgresql+asyncpg://u:hunter2@h/db", 'pip install "sb3-atari-ext[postgres]" and use postgresql+psycopg://'),
    ],
)
def test_bad_storage_is_a_clear_error(storage, message):
    from sb3_atari_ext.zoo.optimize import StorageError

    with pytest.raises(StorageError, match=re.escape(message)):
        open_storage(storage)


def test_unreachable_database_fails_fast_with_a_clear_message(tmp_path):
    storage = "postgresql+psycopg://sb3atari:s3cret@127.0.0.1:1/none"
    message = "cannot open the Optuna storage postgresql+psycopg://sb3atari:***@127.0.0.1:1/none"
    start = time.time()
    result = run(optimize_args(1, 300, "--storage", storage, "--study-name", "x"), cwd=tmp_path, check=False)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and message in last and "s3cret" not in result.stderr
    assert time.time() - start < 90
    assert not (tmp_path / "logs" / "ddqn_prio" / "optimize_CartPole-v1").exists()  # no trial ran


def test_study_command_errors_are_clear(tmp_path):
    result = run(
        ["-m", "sb3_atari_ext.cli", "study", "--storage", str(tmp_path / "none.log"), "--study-name", "nope"],
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2 and result.stderr.startswith("error:")


def test_metrics_file_is_complete_after_each_record(tmp_path):
    from sb3_atari_ext import DDQNPrio
    from sb3_atari_ext.common.metrics import MetricsCallback

    model = DDQNPrio("MlpPolicy", "CartPole-v1", learning_starts=50, buffer_size=1000, seed=0)
    callback = MetricsCallback(str(tmp_path), interval=100)
    model.learn(450, callback=callback)
    records = yaml.safe_load((tmp_path / "metrics.yml").read_text())
    assert [r["timesteps"] for r in records] == [100, 200, 300, 400, model.num_timesteps]  # + the end of training
    assert records == callback.records
    assert np.isfinite([records[-1][k] for k in ("loss", "q_mean", "q_max", "td_error", "priority_mean", "per_beta")]).all()
    with pytest.raises(ValueError, match="interval"):
        MetricsCallback(str(tmp_path), interval=0)


def atari_env():
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env

    gym.register_envs(ale_py)
    from stable_baselines3.common.vec_env import VecFrameStack, VecTransposeImage

    return VecTransposeImage(VecFrameStack(make_atari_env("PongNoFrameskip-v4", n_envs=1, seed=0), 4))


@pytest.mark.parametrize(
    "algo, image",
    # split_q's vector-observation entry needs its reward-splitting wrapper: covered through RL Zoo
    # by tests/zoo/test_bridge.py::test_split_q_optimize_uses_its_sampler
    [("ddqn_prio", False), ("ddqn_prio", True), ("split_q", True), ("a3c", False), ("a3c", True)],
)
def test_each_sampler_gives_hyperparameters_that_construct_and_train(algo, image):
    from stable_baselines3.common.env_util import make_vec_env

    from sb3_atari_ext.plugins import get_registry

    registry = get_registry()
    sampler, cls = registry.get("samplers", algo), registry.names("algorithms")[algo]
    policy = {"a3c": "CnnLstmPolicy" if image else "MlpLstmPolicy"}.get(algo, "CnnPolicy" if image else "MlpPolicy")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    networks = set()
    for _ in range(2):
        trial = study.ask()
        params = sampler(trial, 2, 1, {"policy": policy})
        networks.add(trial.params.get("network"))
        n_envs = params.pop("n_envs", 1)
        if algo != "a3c":
            params.update(buffer_size=500, learning_starts=10)  # the sampled size is for real runs
        env = atari_env() if image else make_vec_env("CartPole-v1", n_envs=n_envs, seed=0)
        model = cls(policy, env, **params)
        model.learn(40 if image else 64)
        env.close()
    if image and algo != "a3c":
        assert networks - {None}  # image policies get a network choice
    if not image:
        assert networks == {None}  # and vector ones do not


def _study_with_trials(storage, name, gammas):
    """A study of ``ddqn_prio`` trials with distinct ``one_minus_gamma`` (raw sampler parameters)."""
    study = optuna.create_study(study_name=name, storage=open_storage(storage), direction="maximize")
    dists = {
        "one_minus_gamma": optuna.distributions.FloatDistribution(1e-4, 0.5),
        "batch_size_pow": optuna.distributions.IntDistribution(5, 8),
    }
    for i, gamma in enumerate(gammas):
        params = {"one_minus_gamma": 1 - gamma, "batch_size_pow": 5}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=float(i)))
    return study


def test_trial_id_0_loads_trial_0_and_no_run_file_holds_the_password(tmp_path):
    name = f"trial0-{uuid.uuid4().hex[:8]}"
    _study_with_trials(POSTGRES, name, [0.9, 0.8])
    password = POSTGRES.split("://", 1)[1].split("@")[0].split(":", 1)[1]
    zoo_train(tmp_path, "ddqn_prio", "CartPole-v1", 200, "--storage", POSTGRES, "--study-name", name, "--trial-id", "0",
              "-params", "learning_starts:50")  # fmt: skip
    run_folder = tmp_path / "logs" / "ddqn_prio" / "CartPole-v1_1"
    config = yaml.load((run_folder / "CartPole-v1" / "config.yml").read_text(), Loader=yaml.UnsafeLoader)  # RL Zoo's
    assert dict(config)["gamma"] == pytest.approx(0.9)  # trial 0's, not the yaml's 0.99 (RL Zoo skips 0)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"args.yml", "command.txt"} <= {p.name for p in files}
    assert not [p for p in files if password.encode() in p.read_bytes()]  # in any form
    assert ":***@" in (run_folder / "CartPole-v1" / "command.txt").read_text()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--trial-id", "7"], "error: --trial-id 7 needs --storage and --study-name (the study to load it from)"),
        (["--study-name", "STUDY", "--trial-id", "5"], "error: --trial-id 5: study 'STUDY' has no such trial (trials: 0-1)"),
        (["--study-name", "nope", "--trial-id", "0"], "error: no study named 'nope' in "),
    ],
)
def test_a_trial_that_cannot_be_loaded_is_one_line_and_masked(tmp_path, extra, message):
    name = f"trialx-{uuid.uuid4().hex[:8]}"
    _study_with_trials(POSTGRES, name, [0.9, 0.8])
    extra = [e.replace("STUDY", name) for e in extra]
    storage = [] if extra[0] == "--trial-id" else ["--storage", POSTGRES]
    result = run(zoo_train_args("ddqn_prio", "CartPole-v1", 100, *storage, *extra), cwd=tmp_path, check=False)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and lines[-1].startswith(message.replace("STUDY", name)), result.stderr[-2000:]
    assert "Traceback" not in result.stderr and ":sb3atari@" not in result.stderr + result.stdout
    assert not (tmp_path / "logs" / "ddqn_prio" / "CartPole-v1_1").exists()


@pytest.mark.slow
def test_ctrl_c_ends_the_search_with_one_line_and_exit_130(tmp_path):
    """SIGINT during a trial: the search stops (RL Zoo would swallow it and go on to the summary,
    Optuna would log a traceback), the trial is recorded as pruned, the exit status is 130."""
    args = zoo_train_args("ddqn_prio", "CartPole-v1", 200_000, *ZOO_OPTIMIZE, "--n-trials", "5", folder=str(tmp_path / "logs"))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    search = subprocess.Popen(
        [sys.executable, *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    journal = tmp_path / "logs" / "ddqn_prio" / "optuna.log"

    def trials():
        storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
        return optuna.load_study(study_name="ddqn_prio-CartPole-v1", storage=storage).trials

    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with contextlib.suppress(KeyError, FileNotFoundError, ValueError):
                if journal.is_file() and any(t.state == optuna.trial.TrialState.RUNNING for t in trials()):
                    break
            time.sleep(0.5)
        else:
            pytest.fail("the search never started a trial")
        time.sleep(2)  # inside the trial's training
        search.send_signal(signal.SIGINT)
        out, err = search.communicate(timeout=120)
    finally:  # what the test starts, it stops, also when it fails
        if search.poll() is None:
            search.kill()
            search.communicate()
    assert search.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.rstrip().splitlines()[-1].startswith("interrupted: the search stopped")
    (trial,) = trials()
    assert trial.state == optuna.trial.TrialState.PRUNED
