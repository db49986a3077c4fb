import sys
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3 import DQN
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_atari_ext.switcher import ModelSwitcher
from tests.conftest import run


def constant_model(action):
    """A real DQN whose greedy action is always ``action`` (its last layer's bias says so)."""
    import torch as th

    model = DQN("MlpPolicy", "CartPole-v1", device="cpu", seed=0)
    with th.no_grad():
        layer = model.q_net.q_net[-1]
        layer.weight.zero_()
        layer.bias.copy_(th.tensor([1.0, 0.0]) if action == 0 else th.tensor([0.0, 1.0]))
    return model


def test_switches_to_model_b_when_the_condition_holds_and_back_at_episode_end():
    switcher = ModelSwitcher([constant_model(0), constant_model(1)], "reward_at_least", {"threshold": 5.0}, n_envs=2)
    obs = np.zeros((2, 4), dtype=np.float32)
    assert switcher.predict(obs, deterministic=True)[0].tolist() == [0, 0]
    switcher.observe([1.0, 7.0], [{}, {}], [False, False])
    assert switcher.predict(obs, deterministic=True)[0].tolist() == [0, 1]  # only env 1 switched
    switcher.observe([0.0, 0.0], [{}, {}], [False, False])
    assert switcher.predict(obs, deterministic=True)[0].tolist() == [0, 1]  # the condition is sticky
    switcher.observe([0.0, 0.0], [{}, {}], [False, True])
    assert switcher.predict(obs, deterministic=True)[0].tolist() == [0, 0]  # new episode: model A


def test_evaluate_policy_plays_the_switcher_with_a_registered_condition():
    env = make_vec_env("CartPole-v1", n_envs=1, seed=0)
    switcher = ModelSwitcher([constant_model(0), constant_model(1)], "reward_at_least", {"threshold": 1.0})
    rewards, lengths = evaluate_policy(
        switcher, env, n_eval_episodes=2, callback=switcher.callback, return_episode_rewards=True, warn=False
    )
    # CartPole pays 1 per step: model A acts once per episode, then model B
    assert len(rewards) == 2 and switcher.steps_per_model[0] == 2 and switcher.steps_per_model[1] == sum(lengths) - 2


def test_bad_switcher_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="exactly two models"):
        ModelSwitcher([constant_model(0)], "lives_below")
    with pytest.raises(ValueError, match="unknown switch condition 'ghosts'"):
        ModelSwitcher([constant_model(0), constant_model(1)], "ghosts")


def test_switch_command_plays_two_atari_models(tmp_path):
    from tests.analysis.test_feature_maps import train_tiny

    a = train_tiny(tmp_path, "CnnPolicy")
    b = a.rename(tmp_path / "b.zip")
    a = train_tiny(tmp_path, "CnnPolicy")
    sb3_atari = Path(sys.executable).with_name("sb3-atari")
    result = run(
        [
            str(sb3_atari),
            "switch",
            "--models",
            str(a),
            str(b),
            "--env",
            "SpaceInvadersNoFrameskip-v4",
            "--condition",
            "lives_below",
            "--condition-kwarg",
            "n=3",
        ],
        cwd=tmp_path,
        timeout=600,
    )
    assert "episodes: 1" in result.stdout and "steps with model A:" in result.stdout
    a_steps, b_steps = (int(x) for x in result.stdout.split("model A:")[1].replace("with model B:", "").split())
    assert a_steps > 0 and b_steps > 0  # Space Invaders starts with 3 lives: B takes over after the first death
