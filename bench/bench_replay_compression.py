"""Compressed replay on real Atari frames: ``PrioritizedReplayBuffer`` with ``compression="zstd"``
(the default for Atari frames) vs the same buffer with ``compression=None``, side by side.

For each game (random play through SB3's Atari pipeline, 4-frame stacks, 1 env):

1. bytes per stored transition at 1M capacity: what the frame log holds per transition, measured
   with ``tracemalloc`` while the buffer is filled (after a warm-up, so compiled code and imports
   are not counted; the buffer's fixed arrays subtracted), plus the fixed arrays of an allocated
   1M-transition buffer (pointers, action, reward, flags, sum trees) divided by 1M;
2. ``add()`` per transition in steady state (the ring already full once; interleaved chunks);
3. ``sample(32)`` + ``update_priorities(32)`` (interleaved blocks);

then ``ddqn_prio``'s whole training steps/s on Space Invaders (Nature CNN, one thread), compressed
vs uncompressed, two interleaved rounds.

    python bench/bench_replay_compression.py [--steps 4000] [--train-steps 2500]

Targets (issue: replay in 1 KB per transition): <= 1,000 bytes per transition on every game; add
<= 1.3x and sample + priority update <= 2x the uncompressed buffer's time; training steps/s
>= 0.95x; a 1M-transition buffer in <= 1.0 GB.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc

import numpy as np
import torch as th

GAMES = ("SpaceInvadersNoFrameskip-v4", "BreakoutNoFrameskip-v4", "PongNoFrameskip-v4")


def play(game: str, steps: int, seed: int = 0) -> list[tuple]:
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env(game, n_envs=1, seed=seed), n_stack=4)
    env.action_space.seed(seed)
    obs, out = env.reset(), []
    for _ in range(steps):
        action = np.array([env.action_space.sample()])
        next_obs, reward, done, infos = env.step(action)
        real_next = infos[0]["terminal_observation"][None] if done[0] else next_obs
        # channels first, as the buffer sees them in training (SB3 wraps image envs in VecTransposeImage)
        out.append((obs.transpose(0, 3, 1, 2).copy(), real_next.transpose(0, 3, 1, 2).copy(), action, reward, done, infos))
        obs = next_obs
    env.close()
    return out


def make(space, action_space, capacity: int, compression: str | None):
    from sb3_atari_ext.buffers import PrioritizedReplayBuffer

    return PrioritizedReplayBuffer(capacity, space, action_space, device="cpu", compression=compression)


def measured_fill(space, action_space, stream, compression):
    warm = make(space, action_space, 64, compression)
    for transition in stream[:8]:
        warm.add(*transition)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    buffer = make(space, action_space, len(stream), compression)
    for transition in stream:
        buffer.add(*transition)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return buffer, used


def array_bytes(buffer) -> int:
    """Bytes of the numpy arrays a buffer allocates up front (its sum trees included)."""
    arrays = [v for v in vars(buffer).values() if isinstance(v, np.ndarray) and v.base is None]  # no views
    tree = getattr(buffer, "tree", None)
    if tree is not None:
        arrays += [v for v in vars(tree).values() if isinstance(v, np.ndarray)]
    if buffer.frame_store is not None:
        arrays.append(buffer.frame_store.entries)  # 8-byte pointers
    return sum(a.nbytes for a in arrays)


def fixed_bytes_per_transition(space, action_space, compression) -> float:
    buffer = make(space, action_space, 1_000_000, compression)
    buffer._allocate()
    if buffer.frame_store is None:  # the uncompressed log is an up-front array: counted as frames
        return (array_bytes(buffer) - buffer.frames.nbytes) / 1e6
    return array_bytes(buffer) / 1e6


def timed_adds(buffer, chunk) -> float:
    start = time.perf_counter()
    for transition in chunk:
        buffer.add(*transition)
    return (time.perf_counter() - start) / len(chunk)


def timed_samples(buffer, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        batch = buffer.sample(32)
        buffer.update_priorities(batch.indices, np.random.random(32) + 0.01)
    return (time.perf_counter() - start) / n


def buffer_figures(game: str, steps: int) -> dict[str, float]:
    from gymnasium import spaces

    stream = play(game, steps)
    space = spaces.Box(0, 255, shape=stream[0][0].shape[1:], dtype=np.uint8)
    action_space = spaces.Discrete(18)
    packed, packed_bytes = measured_fill(space, action_space, stream, "zstd")
    plain, plain_bytes = measured_fill(space, action_space, stream, None)
    frames_packed = (packed_bytes - array_bytes(packed)) / len(stream)  # the compressed entries, the dictionary
    frames_plain = plain.frames.nbytes / len(stream)  # the raw log, with its slack
    fixed_packed = fixed_bytes_per_transition(space, action_space, "zstd")
    fixed_plain = fixed_bytes_per_transition(space, action_space, None)
    adds = {"zstd": [], "none": []}
    for i in range(0, len(stream), 250):  # second pass over a full ring, interleaved chunks
        chunk = stream[i : i + 250]
        adds["zstd"].append(timed_adds(packed, chunk))
        adds["none"].append(timed_adds(plain, chunk))
    samples = {"zstd": [], "none": []}
    for _ in range(10):
        samples["zstd"].append(timed_samples(packed, 100))
        samples["none"].append(timed_samples(plain, 100))
    add_z, add_n = statistics.median(adds["zstd"]), statistics.median(adds["none"])
    smp_z, smp_n = statistics.median(samples["zstd"]), statistics.median(samples["none"])
    return {
        "bytes": frames_packed + fixed_packed,
        "plain_bytes": frames_plain + fixed_plain,
        "frame": packed.frame_store.compressed_bytes / max(packed.frame_store.stored, 1),
        "add_us": add_z * 1e6,
        "add_ratio": add_z / add_n,
        "sample_us": smp_z * 1e6,
        "sample_ratio": smp_z / smp_n,
        "plain_add_us": add_n * 1e6,
        "plain_sample_us": smp_n * 1e6,
    }


def training_steps_per_second(compression: str | None, steps: int) -> float:
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    from sb3_atari_ext.ddqn_prio import DDQNPrio

    env = VecFrameStack(make_atari_env("SpaceInvadersNoFrameskip-v4", n_envs=1, seed=0), n_stack=4)
    model = DDQNPrio(
        "CnnPolicy",
        env,
        buffer_size=100_000,
        learning_starts=1000,
        train_freq=4,
        target_update_interval=1000,
        replay_buffer_kwargs=dict(compression=compression),
        seed=0,
        device="cpu",
    )
    model.learn(1000)  # collection only: not timed
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="transitions per game")
    parser.add_argument("--train-steps", type=int, default=2500, help="timed ddqn_prio steps per run")
    args = parser.parse_args()
    th.set_num_threads(1)
    print(
        "| game | bytes / transition (zstd) | uncompressed | compressed frame | add | add vs uncompressed | "
        "sample(32) + update | vs uncompressed |"
    )
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for game in GAMES:
        f = buffer_figures(game, args.steps)
        worst = max(worst, f["bytes"])
        print(
            f"| {game.replace('NoFrameskip-v4', '')} | **{f['bytes']:,.0f}** | {f['plain_bytes']:,.0f} | {f['frame']:,.0f} | "
            f"{f['add_us']:.0f} us | **{f['add_ratio']:.2f}x** | {f['sample_us']:.0f} us | **{f['sample_ratio']:.2f}x** |",
            flush=True,
        )
    print(f"\n1M transitions at the busiest game's rate: **{worst * 1e6 / 1e9:.2f} GB** (target <= 1.0 GB)\n")
    rates = {"zstd": [], "none": []}
    for _ in range(2):
        for name, compression in (("zstd", "zstd"), ("none", None)):
            rates[name].append(training_steps_per_second(compression, args.train_steps))
    z, n = statistics.mean(rates["zstd"]), statistics.mean(rates["none"])
    rounds = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(rates["zstd"], rates["none"], strict=True))
    print(
        f"ddqn_prio training on SpaceInvaders, one thread: compressed {z:.1f} steps/s, uncompressed {n:.1f}: "
        f"**{z / n:.2f}x** (target >= 0.95x; rounds, compressed/uncompressed: {rounds})"
    )


if __name__ == "__main__":
    main()
