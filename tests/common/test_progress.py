"""A last rollout that overshoots the budget never hands the optimizer a negative learning rate.

SB3 counts progress as ``1 - steps / total``; when ``n_steps x n_envs`` does not divide the budget
the last rollout ends past it, the progress goes below 0 and a linear schedule (RL Zoo's
``lin_<x>``) gives a negative learning rate: the last update would climb the loss.
"""

import pytest
from stable_baselines3.common.env_util import make_vec_env

from sb3_atari_ext import A3C, PQN


def lin(initial):
    return lambda progress_remaining: progress_remaining * initial  # RL Zoo's linear_schedule


@pytest.mark.parametrize(
    "make",
    [
        lambda env: PQN("MlpPolicy", env, n_steps=32, n_minibatches=2, learning_rate=lin(1e-3), device="cpu", seed=0),
        lambda env: A3C("MlpLstmPolicy", env, n_steps=32, learning_rate=lin(1e-3), seed=0,
                        policy_kwargs=dict(lstm_hidden_size=8, net_arch=[8])),
    ],
    ids=["pqn", "a3c"],
)
def test_learning_rate_stays_at_or_above_zero_past_the_budget(make):
    model = make(make_vec_env("CartPole-v1", n_envs=4, seed=0))
    model.learn(total_timesteps=200)  # rollouts of 128 steps: the second ends at 256
    assert model.num_timesteps == 256
    assert model._current_progress_remaining == 0.0
    assert model.policy.optimizer.param_groups[0]["lr"] == 0.0
