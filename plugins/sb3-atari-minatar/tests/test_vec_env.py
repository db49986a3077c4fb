"""``minatar_vector`` gives what RL Zoo's DummyVecEnv pipeline gives, step by step, for the same seed."""

from __future__ import annotations

import numpy as np
import pytest
from sb3_atari_minatar.vec_env import MinAtarVecEnv
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor

from sb3_atari_ext.hookspecs import BackendUnavailable
from sb3_atari_ext.plugins import get_registry


@pytest.fixture(autouse=True)
def _registered():
    get_registry().register_envs()


def _compare(env_id: str, n_envs: int, steps: int, max_episode_steps: int | None = None) -> int:
    """Step both with the same random actions; assert every output is equal; return episodes seen."""
    kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    ours = MinAtarVecEnv(env_id, n_envs=n_envs, seed=7, **kwargs)
    reference = make_vec_env(env_id, n_envs=n_envs, seed=7, env_kwargs=None, wrapper_kwargs=None)
    if max_episode_steps is not None:
        for env in reference.envs:  # the registered limit, shortened as ours is
            env.unwrapped.spec.max_episode_steps = max_episode_steps
            inner = env
            while not hasattr(inner, "_max_episode_steps"):
                inner = inner.env
            inner._max_episode_steps = max_episode_steps
    assert ours.observation_space == reference.observation_space and ours.action_space == reference.action_space
    np.testing.assert_array_equal(ours.reset(), reference.reset())
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(steps):
        actions = rng.integers(0, ours.action_space.n, n_envs)
        obs, rewards, dones, infos = ours.step(actions)
        ref_obs, ref_rewards, ref_dones, ref_infos = reference.step(actions)
        np.testing.assert_array_equal(obs, ref_obs)
        np.testing.assert_array_equal(rewards, ref_rewards)
        np.testing.assert_array_equal(dones, ref_dones)
        assert rewards.dtype == ref_rewards.dtype and obs.dtype == ref_obs.dtype
        for info, ref in zip(infos, ref_infos, strict=True):
            assert info.get("TimeLimit.truncated", False) == ref["TimeLimit.truncated"]
            assert ("terminal_observation" in info) == ("terminal_observation" in ref)
            if "terminal_observation" in ref:
                np.testing.assert_array_equal(info["terminal_observation"], ref["terminal_observation"])
            assert ("episode" in info) == ("episode" in ref)
            if "episode" in ref:
                episodes += 1
                assert (info["episode"]["r"], info["episode"]["l"]) == (ref["episode"]["r"], ref["episode"]["l"])
    ours.close()
    reference.close()
    return episodes


@pytest.mark.parametrize("env_id", ["MinAtar/Breakout-v1", "MinAtar/Asterix-v0", "MinAtar/SpaceInvaders-v1"])
def test_same_trajectories_as_the_dummy_vec_env_pipeline(env_id):
    assert _compare(env_id, n_envs=4, steps=400) > 0  # episodes ended (and reset) along the way


def test_time_limit_truncates_as_the_registered_limit_does():
    assert _compare("MinAtar/Freeway-v1", n_envs=2, steps=120, max_episode_steps=50) >= 4


def test_rl_zoo_factory_refuses_what_it_cannot_give():
    factory = get_registry().get("vec_envs", "minatar_vector")
    env = factory("MinAtar/Breakout-v1", 3, 0, None, [], None, None)
    assert isinstance(env, MinAtarVecEnv) and env.num_envs == 3 and env.env_is_wrapped(Monitor) == [True] * 3
    wrapper = [("stable_baselines3.common.atari_wrappers.AtariWrapper", {})]
    for args, words in [
        (("CartPole-v1", 2, 0, None, [], None, None), "MinAtar"),
        (("MinAtar/Breakout-v1", 2, 0, 4, [], None, None), "frame_stack"),
        (("MinAtar/Breakout-v1", 2, 0, None, wrapper, None, None), "env_wrapper"),
        (("MinAtar/Breakout-v1", 2, 0, None, [], {"render_mode": "human"}, None), "render_mode"),
    ]:
        with pytest.raises(BackendUnavailable, match=words):
            factory(*args)


def test_monitor_file_and_game_settings(tmp_path):
    env = MinAtarVecEnv("MinAtar/Breakout-v1", n_envs=2, seed=0, monitor_dir=str(tmp_path), sticky_action_prob=0.0)
    env.reset()
    finished = 0
    while finished < 3:
        _, _, _, infos = env.step(np.zeros(2, dtype=np.int64))
        finished += sum("episode" in info for info in infos)
    env.close()
    rows = (tmp_path / "minatar_vector.monitor.csv").read_text().splitlines()
    assert rows[1] == "r,l,t" and len(rows) - 2 == finished
    assert all(game.sticky_action_prob == 0.0 for game in env._games)
