"""The MinAtar plugin: env ids, Young & Tian's network, and every default yaml through RL Zoo."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th

from sb3_atari_ext.plugins import get_registry
from tests.conftest import zoo_train

pytestmark = pytest.mark.slow  # real subprocesses, servers or browsers

# CI installs plugins/sb3-atari-minatar (see .ci/run); its absence is a failure, not a skip.
MINATAR_ALGOS = ("dqn", "qrdqn", "ddqn_prio", "split_q", "a3c")


def test_env_ids_and_network_are_registered():
    from sb3_atari_minatar.torch_layers import MinAtarCNN

    registry = get_registry()
    ids = registry.register_envs()
    assert {"MinAtar/Breakout-v1", "MinAtar/SpaceInvaders-v0", "MinAtar/Asterix-v1"} <= set(ids)
    assert registry.get("feature_extractors", "MinAtarCNN") is MinAtarCNN
    env = gym.make("MinAtar/Breakout-v1")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (10, 10, 4) and obs.dtype == bool and env.action_space.n == 3  # minimal action set
    assert gym.make("MinAtar/Breakout-v0").action_space.n == 6


def test_minatar_cnn_is_the_papers_network():
    from sb3_atari_minatar.torch_layers import MinAtarCNN

    space = gym.spaces.Box(0, 1, shape=(10, 10, 6), dtype=bool)
    net = MinAtarCNN(space)
    conv, linear = net.conv[0], net.linear[0]
    assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride) == (6, 16, (3, 3), (1, 1))
    assert (linear.in_features, linear.out_features) == (16 * 8 * 8, 128)
    obs = th.as_tensor(np.random.default_rng(0).random((5, 10, 10, 6)) > 0.5)
    assert net(obs).shape == (5, 128)
    with pytest.raises(ValueError, match="channel-last"):
        MinAtarCNN(gym.spaces.Box(0, 1, shape=(100,)))


@pytest.mark.parametrize("algo", MINATAR_ALGOS)
def test_default_yaml_trains_through_rl_zoo_and_replays_in_enjoy(zoo, algo):
    # learning_starts lowered so that the value-based algorithms update within the few steps
    extra = [] if algo == "a3c" else ["-params", "learning_starts:100"]
    zoo_train(zoo.path, algo, "MinAtar/Breakout-v1", 400, "--seed", "0", *extra)
    run_dir = zoo.path / "logs" / algo / "MinAtar-Breakout-v1_1"
    config = (run_dir / "MinAtar-Breakout-v1" / "config.yml").read_text()
    assert "MinAtarCNN" in config  # the plugin's default yaml was used, no --conf-file
    assert (run_dir / "MinAtar-Breakout-v1.zip").is_file()
    played = zoo("-m", "rl_zoo3.enjoy", "--algo", algo, "--env", "MinAtar/Breakout-v1", "-f", "logs",
                 "-n", "50", "--no-render")  # fmt: skip
    assert played.returncode == 0


def test_pqn_default_yaml_steps_its_games_on_the_minatar_vector_backend(zoo):
    # two rollouts of the yaml's 128 envs x 32 steps, with an evaluation on the same backend
    result = zoo_train(zoo.path, "pqn", "MinAtar/Breakout-v1", 8192, "--seed", "0", "--eval-freq", "4096",
                       "--eval-episodes", "2")  # fmt: skip
    assert "128 envs on the minatar_vector backend (MinAtarVecEnv)" in result.stdout
    run_dir = zoo.path / "logs" / "pqn" / "MinAtar-Breakout-v1_1"
    rows = (run_dir / "minatar_vector.monitor.csv").read_text().splitlines()
    assert rows[1] == "r,l,t" and len(rows) > 2 + 128  # the games' finished episodes, as Monitor writes them
    with np.load(run_dir / "evaluations.npz") as evaluations:
        assert evaluations["results"].shape == (2, 2)


def test_report_and_dashboard_data_read_minatar_runs(zoo):
    from sb3_atari_ext.analysis.runs import find_runs

    zoo_train(zoo.path, "ddqn_prio", "MinAtar/Breakout-v1", 600, "--seed", "0", "-params", "learning_starts:100")
    runs = find_runs(zoo.path / "logs")  # what the dashboard and report list
    assert [(r.algo, r.env) for r in runs] == [("ddqn_prio", "MinAtar-Breakout-v1")] and len(runs[0].rewards) > 0
    zoo("-m", "sb3_atari_ext.cli", "report", "-f", "logs", "--out", "report", "--gif-frames", "20")
    from PIL import Image

    with Image.open(zoo.path / "report" / "gameplay.gif") as gif:  # MinAtar renders 10x10 floats
        assert gif.n_frames == 20 and min(gif.size) >= 160
