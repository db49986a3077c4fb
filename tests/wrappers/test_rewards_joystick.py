import ale_py
import gymnasium as gym
import numpy as np
import pytest

from sb3_atari_ext.wrappers import DeathPenalty, Joystick, RewardFunction, RewardMultiplier, SkipFrame, SplitReward
from tests.wrappers.test_atari import RecordActions

gym.register_envs(ale_py)
GAME = "MsPacmanNoFrameskip-v4"


def play(env, steps, seed=0):
    env.reset(seed=seed)
    env.action_space.seed(seed)
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        yield reward, info, terminated or truncated
        if terminated or truncated:
            env.reset()


def test_death_penalty_fires_exactly_on_life_loss():
    raw = gym.make(GAME)
    env = DeathPenalty(raw, penalty=500)
    env.reset(seed=0)
    env.action_space.seed(0)
    lives, deaths = 3, 0
    for _ in range(3000):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        lost = info["lives"] < lives
        lives = info["lives"]
        if lost:
            deaths += 1
            assert reward <= -500 + 50 and info["reward_parts"][1] == -500
        else:
            assert reward >= 0 and info["reward_parts"][1] == 0
        if terminated or truncated:
            break
    assert deaths >= 1


class PayGhost(gym.Wrapper):
    """Pays a ghost-sized reward (400) at step 20 of a real MsPacman game, nothing else changed."""

    def reset(self, **kwargs):
        self.t = 0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        return obs, (400.0 if self.t == 20 else reward), terminated, truncated, info


def test_ghost_multiplier_only_multiplies_ghost_rewards():
    env = RewardMultiplier(PayGhost(gym.make(GAME)), multiplier=3.0, min_reward=200)
    baseline = PayGhost(gym.make(GAME))
    got = [r for r, *_ in play(env, 1500)]
    expected = [r for r, *_ in play(baseline, 1500)]
    assert any(0 < r < 200 for r in expected)  # dots and pills were eaten: left unchanged
    assert got == [r * 3.0 if r >= 200 else r for r in expected]


def test_registered_reward_function_from_the_mspacman_plugin():
    """CI installs plugins/sb3-atari-mspacman (see .ci/run): its split function drives the parts."""
    env = RewardFunction(gym.make(GAME), reward_fn="mspacman.split", death_pen=100.0)
    parts = [info["reward_parts"] for _, info, _ in play(env, 1500)]
    assert all(p[0] >= 1.0 for p in parts)  # positive stream: reward + 1
    assert any(p[1] == -100.0 for p in parts)  # a life was lost
    with pytest.raises(ValueError, match="mspacman.nope"):
        RewardFunction(gym.make(GAME), reward_fn="mspacman.nope")


def test_skip_frame_adds_up_reward_parts():
    inner = DeathPenalty(gym.make(GAME), penalty=10)
    env = SplitReward(SkipFrame(inner, skip=4), clip=False)
    total_parts, total_reward = np.zeros(2), 0.0
    for reward, info, _ in play(env, 400):
        total_parts += info["reward_parts"]
        total_reward += reward
    assert total_parts.sum() == pytest.approx(total_reward) and total_parts[0] > 0


@pytest.mark.parametrize(
    "stick, meaning",
    [
        ((0.0, 0.0), "NOOP"),
        ((0.4, -0.4), "NOOP"),
        ((0.0, 0.9), "UP"),
        ((0.0, -0.9), "DOWN"),
        ((0.9, 0.0), "RIGHT"),
        ((-0.9, 0.0), "LEFT"),
        ((0.9, 0.9), "UPRIGHT"),
        ((-0.9, 0.9), "UPLEFT"),
        ((0.9, -0.9), "DOWNRIGHT"),
        ((-0.9, -0.9), "DOWNLEFT"),
    ],
)
def test_joystick_maps_directions_and_dead_zone_on_mspacman(stick, meaning):
    recorder = RecordActions(gym.make(GAME))
    env = Joystick(recorder, dead_zone=0.5)
    assert env.action_space.shape == (2,)
    env.reset(seed=0)
    env.step(np.array(stick, dtype=np.float32))
    assert recorder.unwrapped.get_action_meanings()[recorder.actions[-1]] == meaning


def test_joystick_fire_falls_back_where_the_game_has_no_fire():
    space_invaders = Joystick(gym.make("SpaceInvadersNoFrameskip-v4"), fire=True)
    assert space_invaders.meaning(np.array([0.9, 0.0, 1.0])) == "RIGHTFIRE"
    assert space_invaders.meaning(np.array([0.0, 0.0, 1.0])) == "FIRE"
    assert space_invaders.meaning(np.array([0.0, 0.9, 0.0])) == "NOOP"  # no UP in Space Invaders
    assert Joystick(gym.make(GAME), fire=True).meaning(np.array([0.9, 0.9, 1.0])) == "UPRIGHT"


def test_bad_wrapper_settings_are_clear_errors():
    with pytest.raises(ValueError, match="dead_zone"):
        Joystick(gym.make(GAME), dead_zone=1.5)
    with pytest.raises(ValueError, match="penalty"):
        DeathPenalty(gym.make(GAME), penalty=float("nan"))
