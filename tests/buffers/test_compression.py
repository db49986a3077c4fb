"""Compressed frame logs: sampled batches equal the uncompressed buffer's bit for bit (before and
after the dictionary is trained, across a save / load), and real Atari frames take under 1 KB."""

import pickle
import tracemalloc

import numpy as np
import pytest
from gymnasium import spaces

from sb3_atari_ext.buffers import FrameReplayBuffer, PrioritizedReplayBuffer
from sb3_atari_ext.buffers.compression import ZstdFrameStore
from tests.buffers.test_frame_storage import ACT, StackedEpisodes, feed


def atari_stream(game: str, n_envs: int, steps: int, seed: int = 0):
    """(obs, next_obs, action, reward, done, infos) of random play through SB3's Atari pipeline."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env(game, n_envs=n_envs, seed=seed), n_stack=4)
    env.action_space.seed(seed)
    obs = env.reset()
    for _ in range(steps):
        action = np.array([env.action_space.sample() for _ in range(n_envs)])
        next_obs, reward, done, infos = env.step(action)
        real_next = next_obs.copy()
        for i in np.flatnonzero(done):
            real_next[i] = infos[i]["terminal_observation"]
        yield obs, real_next, action, reward, done, infos
        obs = next_obs
    env.close()


def test_store_round_trips_frames_before_and_after_its_dictionary():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 4, size=(64,), dtype=np.uint8)
    frames = [np.where(rng.random(64) < 0.1, rng.integers(0, 256, 64), base).astype(np.uint8) for _ in range(300)]
    store = ZstdFrameStore(capacity=100, n_envs=3, frame_bytes=64, train_after=50, dict_size=1024)
    written = {}
    for i, frame in enumerate(frames):
        slot, env = (i // 3) % 100, i % 3
        store.put(slot, env, frame)
        written[slot * 3 + env] = frame
        if i in (10, 49, 50, 299):  # raw, at the switch, compressed
            keys = np.array(sorted(written))
            np.testing.assert_array_equal(store.get(keys), np.stack([written[k] for k in keys]))
    assert store.trained and store.compressed_bytes < 300 * 64
    clone = pickle.loads(pickle.dumps(store))
    keys = np.array(sorted(written))
    np.testing.assert_array_equal(clone.get(keys), store.get(keys))


@pytest.mark.parametrize("train_after", [2, 20])
def test_blank_frames_and_too_few_samples_still_round_trip(train_after):
    """2 samples are too few to train a dictionary (plain zstd then); 20 blank frames train one."""
    store = ZstdFrameStore(capacity=64, n_envs=1, frame_bytes=7056, train_after=train_after, dict_size=4096)
    for i in range(40):
        store.put(i, 0, np.full(7056, i % 3, np.uint8))
    assert store.trained and (store.dictionary is None) == (train_after == 2)
    expected = np.repeat((np.arange(40) % 3).astype(np.uint8)[:, None], 7056, axis=1)
    np.testing.assert_array_equal(store.get(np.arange(40)), expected)
    assert store.compressed_bytes < 40 * 100


def test_compression_choice():
    atari = spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
    small = spaces.Box(0, 255, shape=(4, 8, 8), dtype=np.uint8)
    assert FrameReplayBuffer(100, atari, ACT).compression == "zstd"
    assert FrameReplayBuffer(100, atari, ACT, compression=None).compression is None
    assert FrameReplayBuffer(100, small, ACT).compression is None  # 64-byte frames: nothing to gain
    assert FrameReplayBuffer(100, small, ACT, compression="zstd").compression == "zstd"
    with pytest.raises(ValueError, match="compression='lzma': expected one of 'zstd', 'auto' or None"):
        FrameReplayBuffer(100, atari, ACT, compression="lzma")


@pytest.mark.parametrize("buffer_class", [FrameReplayBuffer, PrioritizedReplayBuffer])
def test_sampled_batches_equal_the_uncompressed_buffers_bit_for_bit(buffer_class):
    """Real Space Invaders frames, 2 envs, 1,300 steps into 2,000 slots (wrapping): the dictionary is trained
    at 1,000 frames (every earlier frame recompressed), a save / load in the middle."""
    space = spaces.Box(0, 255, shape=(84, 84, 4), dtype=np.uint8)  # VecFrameStack: channels last
    packed = buffer_class(2000, space, spaces.Discrete(6), device="cpu", n_envs=2, compression="zstd")
    plain = buffer_class(2000, space, spaces.Discrete(6), device="cpu", n_envs=2, compression=None)
    for step, transition in enumerate(atari_stream("SpaceInvadersNoFrameskip-v4", 2, 1300)):
        for buffer in (packed, plain):
            buffer.add(*transition)
        if step == 700:
            packed = pickle.loads(pickle.dumps(packed))
        if step in (300, 1299):
            for seed in range(3):
                np.random.seed(seed)
                ours = packed.sample(32)
                np.random.seed(seed)
                theirs = plain.sample(32)
                for a, b in zip(ours, theirs, strict=True):
                    if a is not None:
                        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert packed.frame_store.trained and not plain.frame_store
    b, e = np.divmod(np.arange(2000), 2)  # 1,000 slots per env, wrapped around
    np.testing.assert_array_equal(packed.observations_at(b, e), plain.observations_at(b, e))
    np.testing.assert_array_equal(packed.next_observations_at(b, e), plain.next_observations_at(b, e))


def test_real_atari_transitions_take_under_1000_bytes():
    """What the process actually allocates (tracemalloc) per stored Space Invaders transition,
    the game with the busiest frames of those measured."""
    space = spaces.Box(0, 255, shape=(84, 84, 4), dtype=np.uint8)
    stream = list(atari_stream("SpaceInvadersNoFrameskip-v4", 1, 2500, seed=1))
    warm = FrameReplayBuffer(100, space, spaces.Discrete(6), device="cpu")  # compiled code, imports: not the buffer's
    for transition in stream[:10]:
        warm.add(*transition)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    buffer = FrameReplayBuffer(2500, space, spaces.Discrete(6), device="cpu")
    for transition in stream:
        buffer.add(*transition)
    allocated = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    staging = buffer.frames.nbytes
    assert (allocated - staging) / 2500 <= 1000
    assert abs(buffer.nbytes - allocated) / allocated < 0.25  # nbytes counts what is really held


def test_streams_of_random_frames_with_episode_starts_are_stored_exactly():
    """Random 8x8 frames, forced through the codec, episodes starting with zero padding, 2 envs:
    what comes back equals SB3's ReplayBuffer, raw before and compressed after the dictionary."""
    from stable_baselines3.common.buffers import ReplayBuffer

    stream = StackedEpisodes(2)
    ours = FrameReplayBuffer(80, stream.space, ACT, device="cpu", n_envs=2, frame_slack=0.2, compression="zstd")
    ours._allocate()
    ours.frame_store.train_after = 40  # the dictionary within the short stream
    sb3 = ReplayBuffer(80, stream.space, ACT, device="cpu", n_envs=2)
    feed(stream, [ours, sb3], 15)
    assert not ours.frame_store.trained
    b, e = np.divmod(np.arange(30), 2)
    np.testing.assert_array_equal(ours.observations_at(b, e), sb3.observations[b, e])
    feed(stream, [ours, sb3], 60)
    assert ours.frame_store.trained
    b, e = np.divmod(np.arange(80), 2)
    valid = ours.is_valid(b, e)
    assert valid.mean() > 0.8
    np.testing.assert_array_equal(ours.observations_at(b[valid], e[valid]), sb3.observations[b[valid], e[valid]])
    np.testing.assert_array_equal(ours.next_observations_at(b[valid], e[valid]), sb3.next_observations[b[valid], e[valid]])
