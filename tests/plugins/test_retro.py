"""The retro plugin's env registration and preprocessing, on the ROM stable-retro ships."""

import gymnasium as gym
import numpy as np
import pytest

from sb3_atari_ext.plugins import get_registry

# CI installs plugins/sb3-atari-retro (see .ci/run); its absence is a failure, not a skip.


def test_airstriker_is_registered_and_preprocessed_like_atari():
    from sb3_atari_retro import RetroPreprocessing

    registry = get_registry()
    assert "retro/Airstriker-Genesis-v0" in registry.register_envs()
    assert registry.get("wrappers", "RetroPreprocessing") is RetroPreprocessing
    env = RetroPreprocessing(gym.make("retro/Airstriker-Genesis-v0"))
    try:
        assert env.observation_space.shape == (84, 84, 1) and env.observation_space.dtype == np.uint8
        assert (
            isinstance(env.action_space, gym.spaces.Discrete) and env.action_space.n == 12
        )  # the Genesis pad has every default combo
        obs, _ = env.reset(seed=0)
        assert obs.shape == (84, 84, 1) and obs.any()
        rewards, lives_seen, dones = [], set(), 0
        rng = np.random.default_rng(0)
        for _ in range(3000):
            obs, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
            rewards.append(reward)
            lives_seen.add(info.get("lives"))
            if terminated or truncated:
                dones += 1
                env.reset()
        assert set(rewards) <= {-1.0, 0.0, 1.0} and 1.0 in rewards  # clipped, and the agent shot something
        assert dones >= 1
    finally:
        env.close()


def test_discretizer_rejects_unknown_buttons():
    from sb3_atari_retro import Discretizer

    get_registry().register_envs()  # registers retro/<Game>-v0 (this test must not rely on another having run)
    env = gym.make("retro/Airstriker-Genesis-v0")
    try:
        with pytest.raises(ValueError, match="unknown buttons"):
            Discretizer(env, combos=[["TURBO"]])
        names = Discretizer(env, combos=[[], ["LEFT", "B"], ["RIGHT"]]).get_action_meanings()
        assert names == ["NOOP", "LEFT+B", "RIGHT"]
    finally:
        env.close()
