import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer

from sb3_atari_ext.buffers import FrameReplayBuffer, ReplayMemoryError, parse_bytes

ACT = spaces.Discrete(6)


class StackedEpisodes:
    """Random frames stacked like SB3's VecFrameStack: a new episode starts as [0, 0, 0, f0]; a
    finished episode's next_obs is its terminal stack. Episodes end by termination or truncation."""

    def __init__(self, n_envs, n_stack=4, size=8, channels_last=False, seed=0, p_done=0.08, p_trunc=0.04):
        self.rng = np.random.default_rng(seed)
        self.n_envs, self.n_stack, self.size, self.channels_last = n_envs, n_stack, size, channels_last
        self.p_done, self.p_trunc = p_done, p_trunc
        self.stacks = np.zeros((n_envs, n_stack, size, size), dtype=np.uint8)
        for env in range(n_envs):
            self._reset(env)

    @property
    def space(self):
        shape = (self.size, self.size, self.n_stack) if self.channels_last else (self.n_stack, self.size, self.size)
        return spaces.Box(0, 255, shape=shape, dtype=np.uint8)

    def _frame(self):
        return self.rng.integers(0, 256, size=(self.size, self.size), dtype=np.uint8)

    def _reset(self, env):
        self.stacks[env] = 0
        self.stacks[env, -1] = self._frame()

    def _view(self, stacks):
        return np.ascontiguousarray(np.moveaxis(stacks, 1, -1)) if self.channels_last else stacks.copy()

    def step(self):
        obs = self._view(self.stacks)
        self.stacks = np.roll(self.stacks, -1, axis=1)
        for env in range(self.n_envs):
            self.stacks[env, -1] = self._frame()
        next_obs = self._view(self.stacks)
        truncated = self.rng.random(self.n_envs) < self.p_trunc
        done = (self.rng.random(self.n_envs) < self.p_done) | truncated
        for env in np.flatnonzero(done):
            self._reset(env)
        action = self.rng.integers(0, 6, size=self.n_envs)
        reward = self.rng.normal(size=self.n_envs).astype(np.float32)
        infos = [{"TimeLimit.truncated": bool(t)} for t in truncated]
        return obs, next_obs, action, reward, done, infos


def feed(stream, buffers, n):
    for _ in range(n):
        transition = stream.step()
        for buffer in buffers:
            buffer.add(*transition)


@pytest.mark.parametrize("n_envs", [1, 3])
@pytest.mark.parametrize("channels_last", [False, True])
def test_samples_are_identical_to_sb3_replay_buffer(n_envs, channels_last):
    stream = StackedEpisodes(n_envs, channels_last=channels_last)
    ours = FrameReplayBuffer(60 * n_envs, stream.space, ACT, device="cpu", n_envs=n_envs, frame_slack=0.2)
    sb3 = ReplayBuffer(60 * n_envs, stream.space, ACT, device="cpu", n_envs=n_envs)
    feed(stream, [ours, sb3], 150)  # the ring wraps around twice
    assert ours.full and sb3.full and ours.pos == sb3.pos
    b, e = np.divmod(np.arange(60 * n_envs), n_envs)
    assert ours.is_valid(b, e).all()
    np.testing.assert_array_equal(ours.observations_at(b, e), sb3.observations[b, e])
    np.testing.assert_array_equal(ours.next_observations_at(b, e), sb3.next_observations[b, e])
    for seed in range(5):
        np.random.seed(seed)
        got = ours.sample(32)
        np.random.seed(seed)
        expected = sb3.sample(32)
        for field in ("observations", "actions", "next_observations", "dones", "rewards"):
            np.testing.assert_array_equal(getattr(got, field).numpy(), getattr(expected, field).numpy(), err_msg=field)


def test_arbitrary_streams_are_stored_exactly():
    """No frame structure at all (random stacks, obs unrelated to the previous next_obs)."""
    rng = np.random.default_rng(0)
    space = spaces.Box(0, 255, shape=(4, 8, 8), dtype=np.uint8)
    ours = FrameReplayBuffer(40, space, ACT, device="cpu", frame_slack=10.0)
    sb3 = ReplayBuffer(40, space, ACT, device="cpu")
    for _ in range(30):
        obs, next_obs = rng.integers(0, 256, size=(2, 1, 4, 8, 8), dtype=np.uint8)
        obs[0, :2] = 0  # leading zero frames inside a random stack
        args = (obs, next_obs, np.array([1]), np.array([0.5]), np.array([False]), [{}])
        ours.add(*args)
        sb3.add(*args)
    b, e = np.arange(30), np.zeros(30, dtype=int)
    np.testing.assert_array_equal(ours.observations_at(b, e), sb3.observations[b, e])
    np.testing.assert_array_equal(ours.next_observations_at(b, e), sb3.next_observations[b, e])


def test_frame_log_overflow_drops_oldest_transitions_never_wrong_frames():
    stream = StackedEpisodes(1, p_done=0.5, p_trunc=0.0)  # very short episodes
    ours = FrameReplayBuffer(200, stream.space, ACT, device="cpu", frame_slack=0.0)
    sb3 = ReplayBuffer(200, stream.space, ACT, device="cpu")
    feed(stream, [ours, sb3], 400)
    b, e = np.arange(200), np.zeros(200, dtype=int)
    with pytest.warns(UserWarning, match="frame log overflowed"):
        valid = ours.is_valid(b, e)
    assert 0 < valid.sum() < 200
    np.testing.assert_array_equal(ours.observations_at(b[valid], e[valid]), sb3.observations[b[valid], e[valid]])
    np.testing.assert_array_equal(ours.next_observations_at(b[valid], e[valid]), sb3.next_observations[b[valid], e[valid]])
    sampled = ours.sample(256).observations.numpy()
    valid_obs = sb3.observations[b[valid], 0]
    assert all((valid_obs == s).all(axis=(1, 2, 3)).any() for s in sampled)


def measured_bytes(make):
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    buffer = make()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, buffer


def test_memory_per_transition_is_measured_below_target():
    space = spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
    capacity = 20_000  # small enough to allocate quickly; the log's fixed extra room is then ~0.3%

    def ours():
        buffer = FrameReplayBuffer(capacity, space, ACT, device="cpu", compression=None)
        buffer._allocate()
        return buffer

    ours_bytes, buffer = measured_bytes(ours)
    sb3_bytes, _ = measured_bytes(lambda: ReplayBuffer(capacity, space, ACT, device="cpu"))
    sb3_opt_bytes, _ = measured_bytes(
        lambda: ReplayBuffer(capacity, space, ACT, device="cpu", optimize_memory_usage=True, handle_timeout_termination=False)
    )
    per_transition = ours_bytes / capacity
    assert per_transition <= 7300
    assert sb3_bytes / ours_bytes >= 7.5 and sb3_opt_bytes / ours_bytes >= 3.8
    assert buffer.nbytes <= ours_bytes


def test_memory_limit_sizes_the_buffer():
    space = spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
    buffer = FrameReplayBuffer(1_000_000, space, ACT, device="cpu", memory_limit="100MB", compression=None)
    assert buffer.buffer_size == int(100e6 / buffer.bytes_per_transition)
    assert FrameReplayBuffer(1000, space, ACT, device="cpu", memory_limit="4GB").buffer_size == 1000
    assert parse_bytes("512MiB") == 512 * 2**20 and parse_bytes(1024) == 1024
    for bad in ("lots", "-4GB", "4XB", 0):
        with pytest.raises(ValueError, match="memory_limit"):
            parse_bytes(bad)


def test_buffer_that_cannot_fit_fails_at_first_add_with_clear_message():
    space = spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
    buffer = FrameReplayBuffer(10**9, space, ACT, device="cpu", compression=None)  # 7 TB: constructing it is fine (lazy)
    stream = StackedEpisodes(1, size=84)
    with pytest.raises(ReplayMemoryError, match="memory_limit"):
        buffer.add(*stream.step())
    assert not buffer.allocated


def test_pickle_round_trip_then_resume_adding():
    stream = StackedEpisodes(2)
    ours = FrameReplayBuffer(80, stream.space, ACT, device="cpu", n_envs=2, frame_slack=0.2)
    sb3 = ReplayBuffer(80, stream.space, ACT, device="cpu", n_envs=2)
    feed(stream, [ours, sb3], 30)
    ours = pickle.loads(pickle.dumps(ours))
    feed(stream, [ours, sb3], 30)  # the stream goes on after the reload
    b, e = np.divmod(np.arange(80), 2)
    np.testing.assert_array_equal(ours.observations_at(b, e), sb3.observations[b, e])
    np.testing.assert_array_equal(ours.next_observations_at(b, e), sb3.next_observations[b, e])


def test_vector_observations_store_each_observation_once():
    space = spaces.Box(-1, 1, shape=(4,), dtype=np.float32)
    ours = FrameReplayBuffer(1000, space, ACT, device="cpu")
    sb3 = ReplayBuffer(1000, space, ACT, device="cpu")
    rng = np.random.default_rng(0)
    obs = rng.random((1, 4), dtype=np.float32)
    for t in range(100):
        next_obs = rng.random((1, 4), dtype=np.float32)
        done = np.array([t % 10 == 9])
        for buffer in (ours, sb3):
            buffer.add(obs, next_obs, np.array([0]), np.array([1.0]), done, [{}])
        obs = rng.random((1, 4), dtype=np.float32) if done[0] else next_obs
    assert ours.log_count[0] == 110  # one per step plus one per episode start
    b, e = np.arange(100), np.zeros(100, dtype=int)
    np.testing.assert_array_equal(ours.next_observations_at(b, e), sb3.next_observations[b, e])


def test_real_atari_stream_through_sb3_dqn_matches_replay_buffer():
    """SB3's own DQN collecting Space Invaders (2 envs, frame stack 4, episodic life): same buffer."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    buffers = []
    for buffer_class in (FrameReplayBuffer, ReplayBuffer):
        env = VecFrameStack(make_atari_env("SpaceInvadersNoFrameskip-v4", n_envs=2, seed=0), n_stack=4)
        model = DQN(
            "CnnPolicy", env, buffer_size=400, learning_starts=10_000, replay_buffer_class=buffer_class, seed=0, device="cpu"
        )
        model.learn(500)  # 1000 transitions into 400 slots: wraps around
        buffers.append(model.replay_buffer)
        env.close()
    ours, sb3 = buffers
    b, e = np.divmod(np.arange(400), 2)
    assert ours.is_valid(b, e).all()
    np.testing.assert_array_equal(ours.observations_at(b, e), sb3.observations[b, e])
    np.testing.assert_array_equal(ours.next_observations_at(b, e), sb3.next_observations[b, e])
    np.testing.assert_array_equal(ours.dones, sb3.dones)
    assert ours.log_count.sum() < 1.05 * 500 * 2 + 64  # about one frame per transition


@pytest.mark.parametrize("algo", ["DQN", "QRDQN"])
def test_drop_in_for_sb3_dqn_and_sb3_contrib_qrdqn(algo):
    import sb3_contrib
    import stable_baselines3

    cls = getattr(stable_baselines3, algo, None) or getattr(sb3_contrib, algo)
    model = cls(
        "MlpPolicy",
        "CartPole-v1",
        buffer_size=500,
        learning_starts=50,
        replay_buffer_class=FrameReplayBuffer,
        device="cpu",
        seed=0,
    )
    model.learn(150)
    assert isinstance(model.replay_buffer, FrameReplayBuffer) and model.replay_buffer.size() >= 150
    assert model._n_updates > 0


def test_saving_a_barely_filled_large_buffer_writes_only_what_was_added(tmp_path):
    stream = StackedEpisodes(1, size=84)
    ours = FrameReplayBuffer(100_000, stream.space, ACT, device="cpu")
    sb3 = ReplayBuffer(1_000, stream.space, ACT, device="cpu")
    feed(stream, [ours, sb3], 50)
    data = pickle.dumps(ours)
    assert len(data) < 10e6  # ~50 frames + the pointer arrays, not the 700 MB frame log
    clone = pickle.loads(data)
    assert clone.frames.shape == ours.frames.shape
    b, e = np.arange(50), np.zeros(50, dtype=int)
    np.testing.assert_array_equal(clone.observations_at(b, e), sb3.observations[b, e])
    feed(stream, [clone, sb3], 10)  # and it keeps going
    b, e = np.arange(60), np.zeros(60, dtype=int)
    np.testing.assert_array_equal(clone.next_observations_at(b, e), sb3.next_observations[b, e])


def test_single_frame_observations_never_overflow_the_frame_log():
    """MinAtar-like single-frame bool observations, episodes of one to three steps: every transition
    starts an episode now and then, yet the full capacity stays stored (no early drop, no warning)."""
    rng = np.random.default_rng(0)
    space = spaces.Box(0, 1, shape=(10, 10, 4), dtype=bool)
    ours = FrameReplayBuffer(1000, space, ACT, device="cpu")
    sb3 = ReplayBuffer(1000, space, ACT, device="cpu")
    obs = rng.random((1, 10, 10, 4)) < 0.2
    for _ in range(2500):
        next_obs = rng.random((1, 10, 10, 4)) < 0.2
        done = rng.random(1) < 0.5
        args = (obs, next_obs, rng.integers(0, 6, size=1), rng.normal(size=1).astype(np.float32), done, [{}])
        ours.add(*args)
        sb3.add(*args)
        obs = rng.random((1, 10, 10, 4)) < 0.2 if done[0] else next_obs
    b, e = np.arange(1000), np.zeros(1000, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ours.is_valid(b, e).all()
    np.testing.assert_array_equal(ours.observations_at(b, e), sb3.observations[b, e])
    np.testing.assert_array_equal(ours.next_observations_at(b, e), sb3.next_observations[b, e])
