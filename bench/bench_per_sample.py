"""Prioritized ``sample(32)`` + ``update_priorities(32)`` vs SB3 ``ReplayBuffer.sample(32)``.

Both buffers are full, their storage written (real memory pages), and are measured side by
side, interleaved, at each capacity. At 100k they hold Atari observations (4x84x84 uint8). A
1M-transition buffer of full 4x84x84 stacks needs 56 GB (SB3's layout), which does not fit in
this machine's 24 GB, so at 1M the observations are 4x21x21: the sum tree (what grows with
capacity) is full size, the observation copy is 16x smaller than Atari's, which makes the
prioritized overhead look *larger* than with real frames (a conservative figure).

    python bench/bench_per_sample.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer

from sb3_atari_ext.buffers import PrioritizedReplayBuffer

ATARI_OBS = spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
SMALL_OBS = spaces.Box(0, 255, shape=(4, 21, 21), dtype=np.uint8)
ACT = spaces.Discrete(6)


def make_full(capacity: int, obs_space: spaces.Box) -> tuple[ReplayBuffer, PrioritizedReplayBuffer]:
    sb3 = ReplayBuffer(capacity, obs_space, ACT, device="cpu")
    per = PrioritizedReplayBuffer(capacity, obs_space, ACT, device="cpu")
    per._allocate()
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, size=obs_space.shape, dtype=np.uint8)
    for buf in (sb3, per):
        for arr in (buf.observations, buf.next_observations):
            for start in range(0, capacity, 4096):
                arr[start : start + 4096] = frame
        buf.actions[:] = rng.integers(0, 6, size=buf.actions.shape)
        buf.rewards[:] = rng.normal(size=buf.rewards.shape)
        buf.full, buf.pos = True, 0
    per.tree.update(np.arange(capacity), rng.random(capacity) ** per.alpha)
    per.max_priority = 1.0
    return sb3, per


def prioritized_step(buffer: PrioritizedReplayBuffer, rng: np.random.Generator) -> None:
    batch = buffer.sample(32)
    buffer.update_priorities(batch.indices, rng.random(32))


def time_per_call(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    print("| capacity | observation | SB3 sample(32) us | PER sample(32)+update(32) us | ratio |")
    print("|---|---|---|---|---|")
    for capacity, obs_space in ((100_000, ATARI_OBS), (1_000_000, SMALL_OBS)):
        sb3, per = make_full(capacity, obs_space)
        base, ours = [], []
        for _ in range(args.repeats):
            base.append(time_per_call(lambda buf=sb3: buf.sample(32), args.calls))
            ours.append(time_per_call(lambda buf=per: prioritized_step(buf, rng), args.calls))
        b, o = statistics.median(base), statistics.median(ours)
        shape = "x".join(map(str, obs_space.shape))
        print(f"| {capacity:,} | {shape} uint8 | {b * 1e6:.0f} | {o * 1e6:.0f} | **{o / b:.2f}x** |", flush=True)
        del sb3, per


if __name__ == "__main__":
    main()
