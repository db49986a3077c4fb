"""Prioritized ``sample(32)`` + ``update_priorities(32)`` vs SB3 ``ReplayBuffer.sample(32)``.

Both buffers hold Atari observations (4x84x84 uint8) and are measured side by side, interleaved,
at each capacity. At 100k the storage is written (real memory pages); a 1M-transition buffer
with full frame stacks needs 56 GB per buffer, which no machine here has, so at 1M the storage is
left unwritten: its pages are the kernel's shared zero page, which makes the observation gather
*cheaper* than in real use and so overstates the prioritized overhead (a conservative figure).
The sum tree at 1M is fully populated with random priorities in both cases.

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

OBS = spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
ACT = spaces.Discrete(6)


def make_full(capacity: int, write: bool) -> tuple[ReplayBuffer, PrioritizedReplayBuffer]:
    sb3 = ReplayBuffer(capacity, OBS, ACT, device="cpu")
    per = PrioritizedReplayBuffer(capacity, OBS, ACT, device="cpu")
    per._allocate()
    rng = np.random.default_rng(0)
    for buf in (sb3, per):
        if write:
            frame = rng.integers(0, 255, size=OBS.shape, dtype=np.uint8)
            for arr in (buf.observations, buf.next_observations):
                for start in range(0, capacity, 4096):
                    arr[start : start + 4096] = frame
        buf.actions[:] = rng.integers(0, 6, size=buf.actions.shape)
        buf.rewards[:] = rng.normal(size=buf.rewards.shape)
        buf.full, buf.pos = True, 0
    per.tree.update(np.arange(capacity), rng.random(capacity) ** per.alpha)
    per.max_priority = 1.0
    return sb3, per


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
    print("| capacity | storage | SB3 sample(32) us | PER sample(32)+update(32) us | ratio |")
    print("|---|---|---|---|---|")
    for capacity, write in ((100_000, True), (1_000_000, False)):
        sb3, per = make_full(capacity, write)

        def per_step() -> None:
            batch = per.sample(32)
            per.update_priorities(batch.indices, rng.random(32))

        base, ours = [], []
        for _ in range(args.repeats):
            base.append(time_per_call(lambda: sb3.sample(32), args.calls))
            ours.append(time_per_call(per_step, args.calls))
        b, o = statistics.median(base), statistics.median(ours)
        storage = "written" if write else "unwritten (zero pages)"
        print(f"| {capacity:,} | {storage} | {b * 1e6:.0f} | {o * 1e6:.0f} | **{o / b:.2f}x** |", flush=True)
        del sb3, per


if __name__ == "__main__":
    main()
