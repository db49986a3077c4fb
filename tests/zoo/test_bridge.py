"""The RL Zoo bridge, exercised through the real ``rl_zoo3`` commands in subprocesses."""

import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # real subprocesses, servers or browsers

ATARI = "SpaceInvadersNoFrameskip-v4"
FAST = ["--eval-freq", "-1", "--log-interval", "-1"]


def train(zoo, *args, **kwargs):
    return zoo("-m", "rl_zoo3.train", *args, **kwargs)


def enjoy(zoo, *args, **kwargs):
    return zoo("-m", "rl_zoo3.enjoy", *args, **kwargs)


def optimize_one_trial(zoo, algo, params=("learning_starts:100",)):
    """``--optimize`` for one quick random trial on CartPole (the algorithm's registered sampler)."""
    optimize = ["--optimize", "--n-trials", "1", "--n-jobs", "1", "--sampler", "random", "--pruner", "none"]
    evaluation = ["--n-evaluations", "1", "--eval-episodes", "2", "-params", *params]
    return train(zoo, "--algo", algo, "--env", "CartPole-v1", "-n", "300", *optimize, *evaluation)


def model_path(folder: Path, algo: str, env: str, run_id: int = 1) -> Path:
    return folder / "logs" / algo / f"{env}_{run_id}" / f"{env}.zip"


def test_train_then_enjoy_on_space_invaders(zoo):
    short = ["-n", "300", "-params", "learning_starts:100"]  # the default, paper-sized buffer (1M transitions)
    train(zoo, "--algo", "ddqn_prio", "--env", ATARI, "-f", "logs", *FAST, *short)
    assert model_path(zoo.path, "ddqn_prio", ATARI).is_file()
    config = yaml.unsafe_load((zoo.path / "logs" / "ddqn_prio" / f"{ATARI}_1" / ATARI / "config.yml").read_text())
    assert dict(config)["alpha"] == 0.6  # our default yaml was used, with no --conf-file
    assert dict(config)["buffer_size"] == 1_000_000
    result = enjoy(zoo, "--algo", "ddqn_prio", "--env", ATARI, "-f", "logs", "-n", "150", "--no-render")
    assert "Loading" in result.stdout


def test_rl_zoo3_console_script_and_optimize(zoo):
    rl_zoo3 = Path(sys.executable).with_name("rl_zoo3")
    zoo(str(rl_zoo3), "train", "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "200", *FAST)
    assert model_path(zoo.path, "ddqn_prio", "CartPole-v1").is_file()
    optimize = ["--optimize", "--n-trials", "2", "--n-jobs", "1", "--sampler", "random", "--pruner", "none"]
    evaluation = ["--n-evaluations", "1", "--eval-episodes", "2"]
    storage = ["--storage", "logs/study.log", "--study-name", "ddqn_prio_test"]
    args = ["--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "300", "-params", "learning_starts:100"]
    result = train(zoo, *args, *optimize, *evaluation, *storage)
    assert "Number of finished trials:  2" in result.stdout or "Number of finished trials: 2" in result.stdout
    assert (zoo.path / "logs" / "study.log").is_file()


def test_unknown_algorithm_lists_the_choices(zoo):
    result = train(zoo, "--algo", "ddqn_nope", "--env", "CartPole-v1", check=False)
    assert result.returncode == 2
    assert "invalid choice: 'ddqn_nope'" in result.stderr and "'ddqn_prio'" in result.stderr


def write_conf(folder: Path, **overrides) -> Path:
    base = yaml.safe_load((ROOT / "hyperparams" / "ddqn_prio.yml").read_text())
    base["CartPole-v1"].update(overrides)
    path = folder / "bad.yml"
    path.write_text(yaml.safe_dump(base))
    return path


def test_bad_yaml_value_names_key_value_and_file(zoo):
    conf = write_conf(zoo.path, alpha=-0.5)
    result = train(zoo, "--algo", "ddqn_prio", "--env", "CartPole-v1", "--conf-file", str(conf), check=False)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: invalid hyperparameter alpha=-0.5") and str(conf) in last
    assert "Traceback" not in result.stderr
    assert not (zoo.path / "logs" / "ddqn_prio").exists()  # nothing was built


def test_buffer_smaller_than_batch_is_refused(zoo):
    conf = write_conf(zoo.path, buffer_size=16, batch_size=64)
    result = train(zoo, "--algo", "ddqn_prio", "--env", "CartPole-v1", "--conf-file", str(conf), check=False)
    assert result.returncode != 0 and "buffer_size=16" in result.stderr and "batch_size (64)" in result.stderr


def test_bad_command_line_value_is_attributed_to_params(zoo):
    result = train(zoo, "--algo", "ddqn_prio", "--env", "CartPole-v1", "-params", "beta:1.5", check=False)
    assert result.returncode != 0 and "beta=1.5 in the -params option" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_saves_model_and_prioritized_buffer_then_resume(zoo, sig):
    algo = ["--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "1000000"]
    params = ["-params", "learning_starts:100", "train_freq:4", "gradient_steps:1"]
    args = [sys.executable, "-m", "rl_zoo3.train", *algo, *FAST, "--save-replay-buffer", *params]
    proc = subprocess.Popen(args, cwd=zoo.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("Log path"):
                break
        # let it collect and train for a while: until the Monitor file shows 300+ steps (not a fixed
        # sleep: on a loaded machine start-up alone can take longer than any sleep we would pick)
        monitor = zoo.path / "logs" / "ddqn_prio" / "CartPole-v1_1" / "0.monitor.csv"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            rows = monitor.read_text().splitlines()[2:] if monitor.exists() else []
            if sum(int(row.split(",")[1]) for row in rows if row.count(",") >= 2) >= 300:
                break
            time.sleep(0.2)
        proc.send_signal(sig)
        output = proc.communicate(timeout=120)[0]
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig, output  # saved, but stopped early: 130 / 143, as a shell expects
    assert f"{sig.name} received" in output and f"{sig.name}: training stopped at step" in output
    run_dir = zoo.path / "logs" / "ddqn_prio" / "CartPole-v1_1"
    with open(run_dir / "replay_buffer.pkl", "rb") as f:
        buffer = pickle.load(f)
    n = buffer.size()
    assert n > 100
    priorities = buffer.tree[np.arange(n)]
    assert len(np.unique(priorities)) > 10  # trained priorities, not just the initial max
    # -i resumes with that buffer
    resume = ["-i", str(run_dir / "CartPole-v1.zip"), "--save-replay-buffer"]
    result = train(zoo, "--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "200", *FAST, *resume)
    assert "Loading replay buffer" in result.stdout
    with open(zoo.path / "logs" / "ddqn_prio" / "CartPole-v1_2" / "replay_buffer.pkl", "rb") as f:
        resumed = pickle.load(f)
    assert resumed.size() >= n + 200  # continued on top of the saved transitions
    assert len(np.unique(resumed.tree[np.arange(n)])) > 10


def test_autoload_can_be_switched_off_and_sb3_atari_train_still_works(zoo):
    check = "import rl_zoo3.utils as u; print('ddqn_prio' in u.ALGOS)"
    assert zoo("-c", check).stdout.strip() == "True"
    assert zoo("-c", check, env={"SB3_ATARI_EXT_AUTOLOAD": "0"}).stdout.strip() == "False"
    sb3_atari = Path(sys.executable).with_name("sb3-atari")
    algo = ["--algo", "ddqn_prio", "--env", "CartPole-v1", "-n", "150"]
    zoo(str(sb3_atari), "train", *algo, *FAST, env={"SB3_ATARI_EXT_AUTOLOAD": "0"})
    assert model_path(zoo.path, "ddqn_prio", "CartPole-v1").is_file()


def test_startup_hook_imports_nothing_heavy(zoo):
    heavy = ("torch", "stable_baselines3", "rl_zoo3", "sb3_atari_ext", "pluggy", "typing")
    code = f"import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    loaded = eval(zoo("-c", code).stdout)
    assert loaded == ["sb3_atari_ext", "sb3_atari_ext.version", "sb3_atari_ext.zoo", "sb3_atari_ext.zoo.autoload"]


def test_pth_line_is_one_plain_import_that_never_breaks_startup(zoo, tmp_path):
    line = (ROOT / "sb3_atari_ext" / "zoo" / "sb3_atari_ext_autoload.pth").read_text()
    assert line == "import sb3_atari_ext.zoo.autoload\n"
    # a site folder whose .pth names a module that fails: Python's site reports it and starts anyway
    site = tmp_path / "site"
    site.mkdir()
    (site / "sb3_atari_ext_autoload.pth").write_text(line)
    code = f"import sys; sys.modules['sb3_atari_ext.zoo.autoload'] = None; import site; site.addsitedir({str(site)!r})"
    code += "; print('alive')"
    result = zoo("-S", "-c", code)
    assert result.stdout.strip() == "alive" and "sb3_atari_ext_autoload.pth" in result.stderr
    # the module itself never raises: a failing install is one line and the interpreter goes on
    code = "import sys; sys.meta_path = tuple(sys.meta_path); import sb3_atari_ext.zoo.autoload; print('alive')"
    result = zoo("-S", "-c", code, env={"PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "alive" and "RL Zoo autoload disabled" in result.stderr


def test_plugins_command_json(zoo):
    import json

    sb3_atari = Path(sys.executable).with_name("sb3-atari")
    plugins = {p["name"]: p for p in json.loads(zoo(str(sb3_atari), "plugins", "--json").stdout)}
    assert plugins["builtin"]["distribution"] == "sb3-atari-ext"
    assert plugins["builtin"]["registers"]["algorithms"] == ["a3c", "apex_ddqn", "ddqn_prio", "pqn", "rainbow", "split_q"]
    text = zoo(str(sb3_atari), "plugins").stdout
    assert "builtin" in text and "ddqn_prio" in text


def test_example_plugin_is_found_by_rl_zoo(zoo):
    """CI installs plugins/sb3-atari-example (see .ci/run): its algorithm, yaml and wrapper work."""
    import importlib.metadata

    names = {e.name for e in importlib.metadata.entry_points(group="sb3_atari_ext")}
    assert "example" in names, "install it first: pip install ./plugins/sb3-atari-example"
    train(zoo, "--algo", "ddqn_nstep3", "--env", "CartPole-v1", "-n", "300", *FAST, "-params", "learning_starts:100")
    config_file = zoo.path / "logs" / "ddqn_nstep3" / "CartPole-v1_1" / "CartPole-v1" / "config.yml"
    config = dict(yaml.unsafe_load(config_file.read_text()))
    assert config["env_wrapper"] == [{"ScaleReward": {"scale": 0.1}}]
    result = enjoy(zoo, "--algo", "ddqn_nstep3", "--env", "CartPole-v1", "-f", "logs", "-n", "100", "--no-render")
    assert "Loading" in result.stdout
    # --optimize uses the sampler the plugin registered
    result = optimize_one_trial(zoo, "ddqn_nstep3")
    assert "Number of finished trials:" in result.stdout and "n_steps" in result.stdout


def test_non_finite_loss_is_a_clear_error_under_rl_zoo(zoo):
    """A NaN reward (the example plugin's ScaleReward with scale .nan) must end in a one-line error."""
    conf = write_conf(
        zoo.path, env_wrapper=[{"ScaleReward": {"scale": float("nan")}}], learning_starts=100, train_freq=4, gradient_steps=1
    )
    result = train(
        zoo, "--algo", "ddqn_prio", "--env", "CartPole-v1", "--conf-file", str(conf), "-n", "2000", *FAST, check=False
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: ddqn_prio: the loss is nan" in result.stderr


def test_wheel_ships_the_pth_hook_and_default_yaml(tmp_path):
    """``pip install .`` (a real wheel, not the editable install) makes RL Zoo see ddqn_prio."""
    import zipfile

    from tests.conftest import run

    run(["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(ROOT)], cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("sb3_atari_ext-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "sb3_atari_ext_autoload.pth" in names and "sb3_atari_ext/hyperparams/ddqn_prio.yml" in names
    target = tmp_path / "site"
    run(["-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)], cwd=tmp_path)
    import site

    venv_site = next(p for p in site.getsitepackages() if p.endswith("site-packages"))
    code = (
        "import site, sys; "
        f"site.addsitedir({str(target)!r}); site.addsitedir({venv_site!r}); "
        "import sb3_atari_ext, rl_zoo3.utils as u; from sb3_atari_ext.plugins import get_registry; "
        "print(sb3_atari_ext.__file__); print('ddqn_prio' in u.ALGOS); print(get_registry().hyperparams_files('ddqn_prio')[0])"
    )
    out = run(["-S", "-c", code], cwd=tmp_path).stdout.split()
    assert out[0].startswith(str(target)) and out[1] == "True" and out[2].startswith(str(target))


def test_sb3_dqn_through_rl_zoo_with_frame_replay_buffer(zoo):
    params = ["-params", "replay_buffer_class:FrameReplayBuffer", "learning_starts:100", "buffer_size:1000"]
    train(zoo, "--algo", "dqn", "--env", ATARI, "-n", "300", *FAST, *params)
    config = dict(yaml.unsafe_load((zoo.path / "logs" / "dqn" / f"{ATARI}_1" / ATARI / "config.yml").read_text()))
    assert config["replay_buffer_class"].__name__ == "FrameReplayBuffer"
    assert model_path(zoo.path, "dqn", ATARI).is_file()


@pytest.mark.parametrize("conf", ["transformer", "lstm"])
def test_thesis_conf_files_train_and_replay(zoo, conf):
    conf_file = ROOT / "hyperparams" / "thesis" / f"{conf}.yml"
    short = ["-n", "200", "-params", "learning_starts:100", "buffer_size:1000", "batch_size:8"]
    train(zoo, "--algo", "ddqn_prio", "--env", ATARI, "--conf-file", str(conf_file), *FAST, *short)
    config = dict(yaml.unsafe_load((zoo.path / "logs" / "ddqn_prio" / f"{ATARI}_1" / ATARI / "config.yml").read_text()))
    assert config["policy"] == ("TransformerPolicy" if conf == "transformer" else "LstmPolicy")
    enjoy(zoo, "--algo", "ddqn_prio", "--env", ATARI, "-f", "logs", "-n", "50", "--no-render")


def test_noisy_cnn_policy_trains_and_replays_through_rl_zoo(zoo):
    short = ["-n", "200", "-params", "policy:'NoisyCnnPolicy'", "exploration_initial_eps:0.0", "exploration_final_eps:0.0"]
    train(zoo, "--algo", "ddqn_prio", "--env", ATARI, *FAST, *short, "learning_starts:100", "buffer_size:1000")
    enjoy(zoo, "--algo", "ddqn_prio", "--env", ATARI, "-f", "logs", "-n", "50", "--no-render")


def test_bad_policy_kwargs_fail_before_training(zoo):
    kwargs = "policy_kwargs:dict(features_extractor_kwargs=dict(d_model=128,n_heads=3))"
    result = train(
        zoo,
        "--algo",
        "ddqn_prio",
        "--env",
        ATARI,
        "-n",
        "200",
        *FAST,
        "-params",
        "policy:'TransformerPolicy'",
        kwargs,
        check=False,
    )
    assert result.returncode != 0
    assert "n_heads=3 must divide d_model=128" in result.stderr.strip().splitlines()[-1]
    assert not model_path(zoo.path, "ddqn_prio", ATARI).exists()


def test_space_invaders_ddqn_conf_trains_and_replays(zoo):
    conf_file = ROOT / "hyperparams" / "space_invaders_ddqn" / "space_invaders.yml"
    short = ["-n", "200", "-params", "learning_starts:100", "buffer_size:1000"]
    train(zoo, "--algo", "ddqn_prio", "--env", ATARI, "--conf-file", str(conf_file), *FAST, *short)
    enjoy(zoo, "--algo", "ddqn_prio", "--env", ATARI, "-f", "logs", "-n", "50", "--no-render")
    config = dict(yaml.unsafe_load((zoo.path / "logs" / "ddqn_prio" / f"{ATARI}_1" / ATARI / "config.yml").read_text()))
    assert config["env_wrapper"][2] == {"ActionSubset": {"actions": ["FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]}}


def test_split_q_trains_and_replays_on_mspacman_with_the_mspacman_plugin(zoo):
    """CI installs plugins/sb3-atari-mspacman (see .ci/run): its yaml is merged with ours."""
    env = "MsPacmanNoFrameskip-v4"
    result = train(zoo, "--algo", "split_q", "--env", env, "-n", "300", *FAST, "-params", "learning_starts:100")
    assert "merged from" in result.stdout and "sb3_atari_mspacman" in result.stdout
    config = dict(yaml.unsafe_load((zoo.path / "logs" / "split_q" / f"{env}_1" / env / "config.yml").read_text()))
    assert config["env_wrapper"][1] == {"RewardFunction": {"reward_fn": "mspacman.split"}}
    assert config["gamma"] == 0.95  # seed 004's setting, from the plugin
    enjoy(zoo, "--algo", "split_q", "--env", env, "-f", "logs", "-n", "100", "--no-render")
    # our own atari defaults still apply to other games
    train(zoo, "--algo", "split_q", "--env", ATARI, "-n", "200", *FAST, "-params", "learning_starts:100")
    config = dict(yaml.unsafe_load((zoo.path / "logs" / "split_q" / f"{ATARI}_1" / ATARI / "config.yml").read_text()))
    assert config["env_wrapper"][1] == {"SplitReward": {"clip": True}}


def test_ppo_with_joystick_from_the_mspacman_plugin(zoo):
    env = "MsPacmanNoFrameskip-v4"
    train(zoo, "--algo", "ppo", "--env", env, "-n", "256", *FAST, "-params", "n_envs:2", "n_steps:64", "batch_size:64")
    config = dict(yaml.unsafe_load((zoo.path / "logs" / "ppo" / f"{env}_1" / env / "config.yml").read_text()))
    assert config["env_wrapper"][1] == {"Joystick": {"dead_zone": 0.5}}
    enjoy(zoo, "--algo", "ppo", "--env", env, "-f", "logs", "-n", "100", "--no-render")


def test_split_q_bad_memory_is_a_clear_error(zoo):
    result = train(zoo, "--algo", "split_q", "--env", "CartPole-v1", "-params", "reward_memory:-0.5", check=False)
    assert result.returncode != 0
    assert "invalid hyperparameter reward_memory=-0.5 in the -params option" in result.stderr.strip().splitlines()[-1]


def test_split_q_optimize_uses_its_sampler(zoo):
    result = optimize_one_trial(zoo, "split_q")
    assert "Number of finished trials:" in result.stdout and "punish_memory" in result.stdout


BREAKOUT = "BreakoutNoFrameskip-v4"


def test_a3c_trains_on_envpool_and_enjoy_replays_it(zoo):
    # sb3-atari train turns --vec-env envpool into the vec_env item of -params (beside n_envs:4)
    sb3_atari = Path(sys.executable).with_name("sb3-atari")
    short = ["-n", "320", "-params", "n_envs:4"]
    args = ["train", "--algo", "a3c", "--env", BREAKOUT, "--vec-env", "envpool", "-f", "logs", *FAST, *short]
    result = zoo(str(sb3_atari), *args)
    assert "4 envs on the envpool backend" in result.stdout
    run = zoo.path / "logs" / "a3c" / f"{BREAKOUT}_1"
    assert model_path(zoo.path, "a3c", BREAKOUT).is_file() and (run / "envpool.monitor.csv").is_file()
    config = dict(yaml.unsafe_load((run / BREAKOUT / "config.yml").read_text()))
    assert config["policy"] == "CnnLstmPolicy" and config["n_steps"] == 5  # our default a3c.yml
    # enjoy rebuilds RL Zoo's own pipeline (AtariWrapper + VecFrameStack) and carries the LSTM state
    result = enjoy(zoo, "--algo", "a3c", "--env", BREAKOUT, "-f", "logs", "-n", "300", "--no-render")
    assert "Loading" in result.stdout
    # the default a3c.yml steps Atari on ale-py's own vector env
    result = train(zoo, "--algo", "a3c", "--env", BREAKOUT, "-f", "logs", *FAST, *short)
    assert "4 envs on the ale_vector backend" in result.stdout
    assert (zoo.path / "logs" / "a3c" / f"{BREAKOUT}_2" / "ale_vector.monitor.csv").is_file()


def a3c_conf(folder: Path, **entry) -> Path:
    path = folder / "a3c.yml"
    path.write_text(yaml.safe_dump({"CartPole-v1": {"policy": "MlpLstmPolicy", "n_envs": 2, "n_timesteps": 1000, **entry}}))
    return path


def test_vec_env_from_yaml_and_fallback_with_a_message(zoo):
    # a3c.yml asks for a C++ backend on Atari; CartPole is not an envpool Atari id -> fallback
    conf = a3c_conf(zoo.path, vec_env="envpool")
    result = train(zoo, "--algo", "a3c", "--env", "CartPole-v1", "--conf-file", str(conf), "-f", "logs", "-n", "64", *FAST)
    assert "vec_env 'envpool' unavailable" in result.stdout and "Falling back to SubprocVecEnv" in result.stdout
    assert model_path(zoo.path, "a3c", "CartPole-v1").is_file()


def test_unknown_vec_env_is_a_clear_error(zoo):
    sb3_atari = Path(sys.executable).with_name("sb3-atari")
    args = ["train", "--algo", "a3c", "--env", "CartPole-v1", "--vec-env", "ray", "-n", "64"]
    result = zoo(str(sb3_atari), *args, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    from sb3_atari_ext.zoo.env_backends import vec_env_backends

    # RL Zoo's two, ours, then those of installed plugins (the MinAtar plugin's minatar_vector)
    assert vec_env_backends()[:4] == ["dummy", "subproc", "ale_vector", "envpool"]
    expected = f"error: argument --vec-env: invalid choice: 'ray' (choose from {', '.join(vec_env_backends())})"
    assert result.stderr.strip().splitlines()[-1] == expected
    # under rl_zoo3.train itself a backend is a hyperparameter: a bad one is one line naming -params
    result = train(zoo, "--algo", "a3c", "--env", "CartPole-v1", "-n", "64", "-params", "vec_env:'ray'", check=False)
    assert result.returncode != 0 and "unknown vec_env 'ray' in the -params option" in result.stderr.strip().splitlines()[-1]
    conf = a3c_conf(zoo.path, vec_env="ray")
    result = train(zoo, "--algo", "a3c", "--env", "CartPole-v1", "--conf-file", str(conf), "-n", "64", check=False)
    assert result.returncode != 0 and "unknown vec_env 'ray'" in result.stderr.strip().splitlines()[-1]


def test_a3c_optimize_uses_its_sampler(zoo):
    result = optimize_one_trial(zoo, "a3c", params=("n_envs:2",))
    assert "Number of finished trials:" in result.stdout and "lstm_hidden_size" in result.stdout
    assert "n_steps: 4" in result.stdout or "n_steps_pow" in result.stdout


AIRSTRIKER = "retro/Airstriker-Genesis-v0"


def test_retro_plugin_trains_a3c_headless_and_replays(zoo):
    """CI installs plugins/sb3-atari-retro (see .ci/run); no display is set for the subprocesses."""
    headless = {"DISPLAY": "", "SDL_VIDEODRIVER": "dummy"}
    result = train(
        zoo, "--algo", "a3c", "--env", AIRSTRIKER, "-f", "logs", *FAST, "-n", "400", "-params", "n_envs:2", env=headless
    )
    assert "sb3_atari_retro" in result.stdout  # its yaml was merged with ours
    folder = "retro-Airstriker-Genesis-v0"
    zip_path = zoo.path / "logs" / "a3c" / f"{folder}_1" / f"{folder}.zip"
    assert zip_path.is_file()
    config = dict(yaml.unsafe_load((zip_path.parent / folder / "config.yml").read_text()))
    assert config["env_wrapper"] == ["RetroPreprocessing"] and config["vec_env"] == "subproc"
    result = enjoy(zoo, "--algo", "a3c", "--env", AIRSTRIKER, "-f", "logs", "-n", "200", "--no-render", env=headless)
    assert "Loading" in result.stdout


def test_a3c_lstm_conf_trains_and_replays(zoo):
    conf_file = ROOT / "hyperparams" / "a3c_lstm" / "a3c_lstm.yml"
    train(zoo, "--algo", "a3c", "--env", ATARI, "--conf-file", str(conf_file), *FAST, "-n", "160", "-params", "n_envs:4")
    config = dict(yaml.unsafe_load((zoo.path / "logs" / "a3c" / f"{ATARI}_1" / ATARI / "config.yml").read_text()))
    assert config["n_steps"] == 20 and "lstm_hidden_size=512" in config["policy_kwargs"]
    enjoy(zoo, "--algo", "a3c", "--env", ATARI, "-f", "logs", "-n", "100", "--no-render")


def test_save_replay_buffer_with_an_algorithm_without_one_saves_the_model_only(zoo):
    # pqn has no replay buffer: --save-replay-buffer must not fail its final save (it did, at 5M steps)
    result = train(zoo, "--algo", "pqn", "--env", "CartPole-v1", "-n", "1024", "--save-replay-buffer",
                   "--save-freq", "512", "-f", "logs", *FAST)  # fmt: skip
    assert result.returncode == 0 and "Saving replay buffer" not in result.stdout
    run_dir = zoo.path / "logs" / "pqn" / "CartPole-v1_1"
    assert (run_dir / "CartPole-v1.zip").is_file() and not (run_dir / "replay_buffer.pkl").exists()
