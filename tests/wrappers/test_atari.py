import ale_py
import gymnasium as gym
import numpy as np
import pytest

from sb3_atari_ext.wrappers import ActionSubset, SkipFrame

gym.register_envs(ale_py)
GAME = "SpaceInvadersNoFrameskip-v4"


class RecordActions(gym.Wrapper):
    """Records the actions and steps that reach the game."""

    def __init__(self, env):
        super().__init__(env)
        self.actions = []

    def step(self, action):
        self.actions.append(int(action))
        return self.env.step(action)


def test_action_subset_maps_to_the_named_game_actions():
    raw = RecordActions(gym.make(GAME))
    env = ActionSubset(raw, ["fire", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"])
    meanings = raw.unwrapped.get_action_meanings()
    assert env.action_space == gym.spaces.Discrete(5)
    env.reset(seed=0)
    for action in range(5):
        env.step(action)
    assert [meanings[a] for a in raw.actions] == ["FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
    assert env.get_action_meanings() == ["FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]


@pytest.mark.parametrize(
    "actions, message", [(["FIRE", "JUMP"], "unknown action"), ([], "non-empty"), (["FIRE", "FIRE"], "repeat")]
)
def test_action_subset_rejects_bad_names_listing_valid_ones(actions, message):
    with pytest.raises(ValueError, match=message) as info:
        ActionSubset(gym.make(GAME), actions)
    if message == "unknown action":
        assert "'JUMP'" in str(info.value) and "'NOOP'" in str(info.value) and "'LEFTFIRE'" in str(info.value)


def test_skip_frame_sums_rewards_and_matches_raw_stepping():
    skipped = SkipFrame(gym.make(GAME), skip=4)
    raw = gym.make(GAME)
    obs_a, _ = skipped.reset(seed=3)
    obs_b, _ = raw.reset(seed=3)
    np.testing.assert_array_equal(obs_a, obs_b)
    rng = np.random.default_rng(0)
    total_a = total_b = 0.0
    for _ in range(150):
        action = int(rng.integers(0, 6))
        obs_a, reward_a, *_ = skipped.step(action)
        total_a += reward_a
        for _ in range(4):
            obs_b, reward_b, *_ = raw.step(action)
            total_b += reward_b
        np.testing.assert_array_equal(obs_a, obs_b)
    assert total_a == total_b > 0  # rewards were earned and none was lost


def test_skip_frame_stops_early_at_episode_end():
    recorder = RecordActions(gym.make(GAME, max_episode_steps=6))
    env = SkipFrame(recorder, skip=4)
    env.reset(seed=0)
    *_, terminated, truncated, _ = env.step(0)
    assert len(recorder.actions) == 4 and not (terminated or truncated)
    *_, terminated, truncated, _ = env.step(0)
    assert len(recorder.actions) == 6 and truncated


def test_skip_frame_max_pools_the_last_two_frames():
    pooled = SkipFrame(gym.make(GAME), skip=3, max_pool=True)
    raw = gym.make(GAME)
    pooled.reset(seed=1)
    raw.reset(seed=1)
    frames = [raw.step(1)[0] for _ in range(3)]
    np.testing.assert_array_equal(pooled.step(1)[0], np.maximum(frames[1], frames[2]))


def test_skip_frame_rejects_bad_skip():
    with pytest.raises(ValueError, match="skip must be an integer >= 1"):
        SkipFrame(gym.make(GAME), skip=0)
