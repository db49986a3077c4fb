"""Bad input ends with one ``error:`` line and nothing half-written; saves survive signals and kills.

One table: a new case of "user mistake -> the line it gets" is one row.
"""

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import copy_cartpole_runs, run

pytestmark = pytest.mark.slow  # real subprocesses, servers or browsers

TRAIN = ["-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "300", "-f", "logs", "--eval-freq", "-1"]


def _files(folder: Path) -> None:
    (folder / "binary.yml").write_bytes(b"\x00\x01\x02binary")
    (folder / "list.yml").write_text("- a\n- b\n")
    (folder / "corrupt.log").write_text('{"op_code": 0, "worker')  # a record cut short
    (folder / "garbage.log").write_text("not json at all\n")
    (folder / "folder.log").mkdir()
    (folder / "truncated.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    (folder / "nopolicy.yml").write_text("CartPole-v1:\n  n_timesteps: 100\n")
    (folder / "notes.txt").write_text("a file where a folder should be")


CASES = [
    (TRAIN + ["-params", "alpha:-1"],
     "error: invalid hyperparameter alpha=-1 in the -params option: expected a number in [0, 1]"),
    (TRAIN + ["-params", "foo_bar:1"], "error: unknown hyperparameter 'foo_bar' for ddqn_prio in the -params option"),
    (TRAIN + ["-params", "learning_rate:'abc'"], "error: invalid learning_rate or clip_range"),
    (TRAIN + ["-params", "train_freq:0"], "error: invalid hyperparameter train_freq"),
    (TRAIN + ["-params", "gradient_steps:0"],
     "error: invalid hyperparameter gradient_steps=0 in the -params option: expected an integer >= 1 (or -1"),
    (TRAIN + ["-params", "exploration_final_eps:1.5"],
     "error: invalid hyperparameter exploration_final_eps=1.5 in the -params option: expected a number in [0, 1]"),
    (TRAIN + ["-params", "target_update_interval:'abc'"],
     "error: invalid hyperparameter target_update_interval='abc' in the -params option: expected a whole number >= 1"),
    (TRAIN + ["-params", "learning_rate:'lin_abc'"], "error: invalid learning_rate or clip_range"),
    (TRAIN + ["-params", "learning_rate:'lin_-1'"],
     "error: invalid hyperparameter learning_rate='a schedule starting at -1.0' in the -params option"),
    (TRAIN + ["-params", "frame_stack:0"], "error: invalid hyperparameter frame_stack=0 in the -params option"),
    (TRAIN + ["-params", "policy_kwargs:dict(net_arch='x')"],
     "error: invalid hyperparameter policy_kwargs.net_arch='x' in the -params option: expected a list of layer sizes"),
    (TRAIN + ["-params", "policy_kwargs:dict(foo=1)"],
     "error: unknown key 'foo' in policy_kwargs for ddqn_prio in the -params option: it is not an argument of DDQNPrioPolicy"),
    (TRAIN + ["-params", "replay_buffer_kwargs:dict(compression='lz9')"],
     "error: invalid hyperparameter replay_buffer_kwargs.compression='lz9' in the -params option"),
    (["-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "0", "-f", "logs"],
     "error: invalid hyperparameter n_timesteps=0 in the -n option: expected an integer >= 1"),
    (TRAIN + ["--optimize", "--n-trials", "0"],
     "error: invalid hyperparameter n_trials=0 in the --n-trials option: expected an integer >= 1"),
    (TRAIN + ["-i", "missing.zip"], "error: The trained_agent must be a valid path to a .zip file"),
    (["-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPol-v1", "-n", "300", "-f", "logs"],
     "error: CartPol-v1 not found in gym registry, you maybe meant CartPole-v1?"),
    (["-m", "rl_zoo3.enjoy", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-f", "empty_folder", "-n", "10"],
     "error: The empty_folder/ddqn_prio folder was not found"),
    (TRAIN + ["-params", "alpha"], "error: -params 'alpha': expected KEY:VALUE"),
    (TRAIN + ["--conf-file", "binary.yml"], "error: cannot read the hyperparameters file binary.yml"),
    (TRAIN + ["--conf-file", "list.yml"], "error: the hyperparameters file list.yml must be a mapping"),
    (TRAIN + ["-params", "env_wrapper:'NoSuchWrapper'"], "error: unknown wrapper or class in env_wrapper"),
    (TRAIN + ["-params", "policy_kwargs:'dict(features_extractor_class=NoSuchNet)'"], "error: unknown name 'NoSuchNet'"),
    (TRAIN + ["-params", "replay_buffer_kwargs:dict(memory_limit=1000)", "batch_size:32"],
     "error: invalid hyperparameter replay_buffer_kwargs.memory_limit=1000"),
    (["-m", "rl_zoo3.train", "--algo", "a3c", "--env", "CartPole-v1", "-n", "300", "-f", "logs", "-params", "n_envs:0"],
     "error: invalid hyperparameter n_envs=0 in the -params option: expected an integer >= 1"),
    (TRAIN + ["--optimize", "--n-trials", "1", "--storage", "corrupt.log", "--study-name", "x"],
     "error: cannot create or load the study in corrupt.log"),
    (TRAIN + ["--optimize", "--n-trials", "1", "--storage", "garbage.log", "--study-name", "x"],
     "error: cannot create or load the study in garbage.log"),
    (TRAIN + ["--optimize", "--n-trials", "1", "--storage", "folder.log", "--study-name", "x"],
     "error: the Optuna journal folder.log is a folder"),
    (["-m", "sb3_atari_ext.cli", "study", "--storage", "missing.log", "--study-name", "x"],
     "error: no Optuna journal at missing.log"),
    (["-m", "sb3_atari_ext.cli", "dashboard", "--logs", ".", "--port", "99999"], "error: --port 99999 is not a TCP port"),
    (["-m", "sb3_atari_ext.cli", "feature-maps", "--model", "truncated.zip", "--env", "PongNoFrameskip-v4", "--out", "maps"],
     "error: truncated.zip is not a readable model"),
    # SB3's and sb3-contrib's own algorithms get the bridge's checks too, and RL Zoo's own options
    (["-m", "rl_zoo3.train", "--algo", "dqn", "--env", "CartPole-v1", "-n", "300", "-f", "logs", "-params",
      "exploration_fraction:2"], "error: invalid hyperparameter exploration_fraction=2 in the -params option"),
    (["-m", "rl_zoo3.train", "--algo", "qrdqn", "--env", "CartPole-v1", "-n", "300", "-f", "logs", "-params",
      "policy_kwargs:dict(n_quantiles=0)"], "error: invalid hyperparameter policy_kwargs.n_quantiles=0 in the -params option"),
    (["-m", "rl_zoo3.train", "--algo", "ppo", "--env", "CartPole-v1", "-n", "300", "-f", "logs", "-params", "n_steps:0"],
     "error: invalid hyperparameter n_steps=0 in the -params option: expected an integer >= 1"),
    (TRAIN + ["--n-eval-envs", "0", "--eval-freq", "50"],
     "error: invalid hyperparameter n_eval_envs=0 in the --n-eval-envs option: expected an integer >= 1"),
    (TRAIN + ["--log-interval", "0"], "error: invalid hyperparameter log_interval=0 in the --log-interval option"),
    (TRAIN + ["--conf-file", "nopolicy.yml"], "error: the hyperparameters of ddqn_prio in nopolicy.yml have no policy"),
    (["-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "300", "-f", "notes.txt"],
     "error: notes.txt/ddqn_prio: not a directory"),
]  # fmt: skip


@pytest.mark.parametrize(
    "args, expected", CASES, ids=[" ".join(a[a.index("-n") + 3 :] if "-n" in a else a[1:4]) for a, _ in CASES]
)
def test_user_mistake_is_one_error_line_and_nothing_is_left(forkrun, tmp_path, args, expected):
    _files(tmp_path)
    (tmp_path / "tmp").mkdir()
    result = forkrun(args, cwd=tmp_path, env={"TMPDIR": str(tmp_path / "tmp")})
    stderr = result.stderr.strip()
    assert result.returncode != 0
    assert "Traceback" not in stderr, stderr[-2000:]
    assert stderr.splitlines()[-1].startswith(expected), stderr[-500:]
    assert [line for line in stderr.splitlines() if line.startswith("error:")] == [stderr.splitlines()[-1]]
    runs = [p for p in (tmp_path / "logs").glob("*/*") if p.is_dir()] if (tmp_path / "logs").exists() else []
    assert not runs, runs  # no half-made run folder (monitor.csv) of a run that never trained
    assert not (tmp_path / "missing.log").exists()
    assert not list((tmp_path / "tmp").glob("sb3_atari_ext*"))  # no temporary file of ours left behind


def test_the_fork_runner_ends_a_command_as_a_real_start_does(forkrun, tmp_path):
    """The table above runs through ``forkrun`` (imports paid once); the same command started for
    real ends the same way: exit status and last line, with the bridge's hook and without it."""
    args = ["-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPol-v1", "-n", "300", "-f", "logs"]
    for env in ({}, {"SB3_ATARI_EXT_DEBUG": "1"}):
        forked, real = forkrun(args, cwd=tmp_path, env=env), run(args, cwd=tmp_path, env=env, check=False)
        assert forked.returncode == real.returncode == 1
        assert forked.stderr.strip().splitlines()[-1] == real.stderr.strip().splitlines()[-1]
        assert ("Traceback" in forked.stderr) == ("Traceback" in real.stderr) == bool(env)


def test_truncated_model_in_enjoy_and_evaluate_is_one_line(cartpole_runs, tmp_path):
    import shutil

    shutil.copytree(cartpole_runs / "logs", tmp_path / "logs")
    model = tmp_path / "logs" / "ddqn_prio" / "CartPole-v1_2" / "CartPole-v1.zip"
    model.write_bytes(model.read_bytes()[:5000])  # what a save cut short leaves
    for command in (
        "-m rl_zoo3.enjoy --algo ddqn_prio --env CartPole-v1 -f logs -n 10 --no-render",
        "-m sb3_atari_ext.cli evaluate --algo ddqn_prio --env CartPole-v1 -f logs --episodes 1",
    ):
        result = run(command.split(), cwd=tmp_path, check=False)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        expected = (
            f"error: {Path('logs/ddqn_prio/CartPole-v1_2/CartPole-v1.zip')} is not a readable model "
            "(truncated or corrupt zip: File is not a zip file); was its save interrupted?"
        )
        assert result.stderr.strip().splitlines() == [expected]


def _installed_plugin(site: Path, name: str, entry: str, module_text: str | None = None) -> None:
    """A real installed distribution (dist-info with an entry point) on a folder put on PYTHONPATH."""
    dist = site / f"{name}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[sb3_atari_ext]\n{name} = {entry}\n")
    if module_text is not None:
        (site / f"{entry.split(':')[0]}.py").write_text(module_text)


def test_conflicting_installed_plugin_is_disabled_and_strict_broken_plugin_is_named(tmp_path):
    site = tmp_path / "site"
    conflicting = (
        "from sb3_atari_ext import hookimpl\n\n@hookimpl\ndef register_wrappers(register):\n"
        "    register('PrioritizedReplayBuffer', lambda env: env)\n"
    )
    _installed_plugin(site, "clash", "clash_plugin", conflicting)
    env = {"PYTHONPATH": str(site)}
    listing = run(["-m", "sb3_atari_ext.cli", "plugins"], cwd=tmp_path, env=env)
    assert "DISABLED" in listing.stdout and "sb3-atari-ext" in listing.stdout
    assert listing.stderr.count("is disabled") == 1
    trained = run(["-m", "rl_zoo3.train", "--algo", "ppo", "--env", "CartPole-v1", "-n", "64", "-f", "logs",
                   "-params", "n_steps:32", "--eval-freq", "-1"], cwd=tmp_path, env=env)  # fmt: skip
    assert trained.returncode == 0
    broken = tmp_path / "site2"
    _installed_plugin(broken, "broken", "no_such_module_anywhere:plugin")
    strict = run(TRAIN, cwd=tmp_path, env={"PYTHONPATH": str(broken), "SB3_ATARI_EXT_STRICT": "1"}, check=False)
    assert strict.returncode != 0 and "Traceback" not in strict.stderr
    assert (
        strict.stderr.strip().splitlines()[-1].startswith("error: sb3_atari_ext: plugin 'broken' (broken 0.1) failed to load")
    )


def test_second_signal_during_the_final_save_waits_for_it(tmp_path):
    # a big network: the final save writes ~34 MB of model and the replay buffer, long enough to be hit
    cmd = [sys.executable, *TRAIN[:6], "-n", "1000000", "-f", "logs", "--save-replay-buffer", "--eval-freq", "-1",
           "-params", "learning_starts:100", "policy_kwargs:dict(net_arch=[2048, 2048])"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 180
        while time.time() < deadline and "total_timesteps" not in proc.stdout.readline():
            pass
        proc.send_signal(signal.SIGTERM)  # stop training: RL Zoo then saves
        while (line := proc.stdout.readline()) and "Saving to" not in line:
            pass
        proc.send_signal(signal.SIGTERM)  # and again, twice, while it saves
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=120)[0]
    finally:
        proc.kill()
    assert "the save was completed first" in output and "Traceback" not in output
    from sb3_atari_ext import DDQNPrio

    (run_dir,) = (tmp_path / "logs" / "ddqn_prio").iterdir()
    model = DDQNPrio.load(run_dir / "CartPole-v1.zip", device="cpu")
    model.load_replay_buffer(run_dir / "replay_buffer.pkl")
    # every transition the run took is in the saved buffer (how many depends on when the signal landed),
    # but the one of the step the stop interrupted (SB3 stores a transition after the step's callbacks)
    assert model.num_timesteps < model.replay_buffer.buffer_size
    assert 0 < model.num_timesteps - 1 <= model.replay_buffer.size() <= model.num_timesteps
    assert not list(run_dir.glob(".*tmp*"))  # no temporary file left


def test_sigkill_loses_at_most_one_replay_interval_and_resumes(tmp_path):
    cmd = [sys.executable, *TRAIN[:6], "-n", "100000", "-f", "logs", "--save-replay-buffer", "--save-freq", "200",
           "--eval-freq", "-1", "-params", "learning_starts:100"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 180
        while time.time() < deadline and not list((tmp_path / "logs").glob("ddqn_prio/*/rl_model_800_steps.zip")):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (run_dir,) = (tmp_path / "logs" / "ddqn_prio").iterdir()
    with open(run_dir / "replay_buffer.pkl", "rb") as f:
        buffer = pickle.load(f)
    assert buffer.size() >= 550 and buffer.max_priority > 0  # priorities kept
    checkpoint = sorted(run_dir.glob("rl_model_*_steps.zip"), key=lambda p: int(p.stem.split("_")[2]))[-1]
    resumed = run([*TRAIN[:6], "-n", "200", "-f", "logs", "-i", str(checkpoint), "--eval-freq", "-1"], cwd=tmp_path)
    assert "Loading replay buffer" in resumed.stdout


def test_monitor_line_cut_short_is_skipped_with_a_warning(cartpole_runs, tmp_path):
    import shutil

    from sb3_atari_ext.analysis.runs import find_runs

    shutil.copytree(cartpole_runs / "logs", tmp_path / "logs")
    monitor = tmp_path / "logs" / "ddqn_prio" / "CartPole-v1_1" / "0.monitor.csv"
    with open(monitor, "a") as f:
        f.write("23.0,1")  # a run killed while writing its last episode
    with pytest.warns(UserWarning, match="skipped 1 unreadable line"):
        runs = {r.name: r for r in find_runs(tmp_path / "logs")}
    assert len(runs["ddqn_prio/CartPole-v1_1"].rewards) > 0
    result = run(["-m", "sb3_atari_ext.cli", "report", "-f", "logs", "--out", "report", "--gif-frames", "0"], cwd=tmp_path)
    assert (tmp_path / "report" / "learning_curves.png").is_file() and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (["learning_starts:1000"], "warning: n_timesteps (300) <= learning_starts (1000): this run never updates"),
        (["learning_starts:200", "exploration_fraction:0.1"], "warning: exploration ends at step 30, before learning starts"),
    ],
)
def test_a_run_that_cannot_learn_says_so(tmp_path, params, expected):
    result = run([*TRAIN[:6], "-n", "300", "-f", "logs", "--eval-freq", "-1", "-params", *params], cwd=tmp_path)
    assert expected in result.stderr


def test_a_run_that_fails_while_learning_is_marked_failed(tmp_path):
    from sb3_atari_ext.analysis.runs import find_runs

    params = ["-params", "learning_starts:50", "learning_rate:1e30", "train_freq:1"]
    result = run(TRAIN + params, cwd=tmp_path, check=False)
    assert result.returncode != 0 and result.stderr.strip().splitlines()[-1].startswith("error: ddqn_prio: the loss is nan")
    (found,) = find_runs(tmp_path / "logs")
    assert found.status == "failed"  # not "stopped": report and dashboard show it as failed
    assert (found.path / "FAILED.txt").read_text().startswith("error: ddqn_prio: the loss is nan")


def test_an_algorithm_registered_without_yaml_trains_with_its_class_defaults(tmp_path):
    site = tmp_path / "site"
    code = (
        "from sb3_atari_ext import hookimpl\n\n@hookimpl\ndef register_algorithms(register):\n"
        "    from stable_baselines3 import DQN\n\n    class MyDQN(DQN):\n        pass\n\n"
        "    register('my_dqn', MyDQN)\n"
    )
    _installed_plugin(site, "noyaml", "noyaml_plugin", code)
    args = ["-m", "rl_zoo3.train", "--algo", "my_dqn", "--env", "CartPole-v1", "-n", "200", "-f", "logs", "--eval-freq", "-1",
            "-params", "learning_starts:50"]  # fmt: skip
    (tmp_path / "tmp").mkdir()
    result = run(args, cwd=tmp_path, env={"PYTHONPATH": str(site), "TMPDIR": str(tmp_path / "tmp")})
    assert "warning: no default hyperparameters for 'my_dqn'" in result.stderr and "register_hyperparams" in result.stderr
    assert (tmp_path / "logs" / "my_dqn" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()
    assert not list((tmp_path / "tmp").glob("sb3_atari_ext_*"))  # the generated yaml is removed once read


def test_a_full_disk_at_the_final_save_is_one_line_and_leaves_no_partial_file(tmp_path):
    """A real 300 KB tmpfs as the log folder: the run's small files fit, the model zip does not.
    One error line naming the folder, no traceback, no temporary file left, the run marked failed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(disk)], check=True)
    try:
        args = ["-m", "rl_zoo3.train", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "300", "-f", str(disk / "logs")]
        result = run([*args, "--eval-freq", "-1", "-params", "learning_starts:100"], cwd=tmp_path, check=False)
        folder = disk / "logs" / "ddqn_prio" / "CartPole-v1_1"
        assert result.returncode != 0 and "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: the final save to {folder} failed: No space left on device")
        assert not list(folder.rglob("*.zip")) and not list(folder.rglob(".*tmp*"))  # nothing half-written
        assert (folder / "FAILED.txt").is_file()
    finally:
        subprocess.run(["umount", str(disk)], check=True)


PLAY = ["--algo", "ddqn_prio", "--env", "CartPole-v1", "-f", "logs", "-n", "1000000", "--no-render"]


@pytest.mark.parametrize(
    "command", [["-m", "rl_zoo3.enjoy", *PLAY], ["-m", "sb3_atari_ext.cli", "enjoy", *PLAY]], ids=["rl_zoo3", "sb3-atari"]
)
def test_ctrl_c_while_playing_exits_130(cartpole_runs, tmp_path, command):
    """RL Zoo's enjoy catches Ctrl-C and returns normally: the bridge makes the exit status 130."""
    folder = copy_cartpole_runs(cartpole_runs, tmp_path)
    proc = subprocess.Popen([sys.executable, *command], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and "Episode Reward" not in proc.stdout.readline():
            pass  # playing: episodes end
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
    finally:
        proc.kill()
    assert proc.returncode == 130, err[-1500:]
    assert err.strip().splitlines()[-1] == "error: interrupted" and "Traceback" not in err


def test_ctrl_c_stops_the_dashboard_with_130(cartpole_runs, tmp_path):
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = copy_cartpole_runs(cartpole_runs, tmp_path)
    # -X faulthandler: if it ever hangs, SIGABRT makes it print where each of its threads is
    command = [sys.executable, "-X", "faulthandler", "-m", "sb3_atari_ext.cli", "dashboard", "--logs", "logs"]
    command += ["--port", str(port)]
    proc = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    served, deadline = False, time.time() + 60
    try:
        while not served and time.time() < deadline:
            try:
                served = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).status == 200
            except OSError:
                time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # fail with what the dashboard printed and its threads' stacks
        proc.send_signal(signal.SIGABRT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(f"still running 60 s after Ctrl-C (first page served: {served})\n{out[-500:]}\n{err[-6000:]}")
    assert served, err[-1500:]
    assert proc.returncode == 130 and err.strip().splitlines()[-1] == "interrupted: the dashboard stopped", err[-1500:]


def test_a_rollout_larger_than_the_budget_is_one_warning(tmp_path):
    """PPO-style algorithms collect a whole rollout before their first update, whatever -n says."""
    result = run(["-m", "rl_zoo3.train", "--algo", "pqn", "--env", "CartPole-v1", "-n", "100", "-f", "logs",
                  "--eval-freq", "-1", "-params", "n_steps:20"], cwd=tmp_path)  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning: one rollout")]
    assert lines == ["warning: one rollout (n_steps 20 x 16 envs = 320 steps) is larger than n_timesteps (100): the run "
                     "collects it whole, 320 steps, before its first update"]  # fmt: skip
