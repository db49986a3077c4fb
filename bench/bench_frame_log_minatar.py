"""How much of a 100k replay the frame-deduplicated buffer keeps on MinAtar Breakout when episodes
are short (random play, ~10 steps each): the old frame-log room (``frame_slack=0.02``) vs the
default (``None``: two frames per transition for single-frame observations). SB3's ``ReplayBuffer``
keeps all 100,000.

    python bench/bench_frame_log_minatar.py

The last line reads ``kept of 100000: frame_slack 0.02 X, default Y``.
"""

import warnings

import gymnasium as gym
import numpy as np

from sb3_atari_ext.buffers import PrioritizedReplayBuffer
from sb3_atari_ext.plugins import get_registry


def main(capacity: int = 100_000, steps: int = 130_000) -> None:
    get_registry().register_envs()
    warnings.simplefilter("ignore")  # the old setting warns that its log overflowed: that is what we count
    env = gym.make("MinAtar/Breakout-v1")
    rng = np.random.default_rng(0)
    space, actions = env.observation_space, env.action_space
    buffers = {s: PrioritizedReplayBuffer(capacity, space, actions, device="cpu", frame_slack=s) for s in (0.02, None)}
    obs, _ = env.reset(seed=0)
    lengths, length = [], 0
    for _ in range(steps):
        action = int(rng.integers(actions.n))
        next_obs, reward, terminated, truncated, _ = env.step(action)
        length += 1
        info = [{"TimeLimit.truncated": truncated and not terminated}]
        for buffer in buffers.values():
            args = (np.array([action]), np.array([reward], dtype=np.float32), np.array([terminated or truncated]))
            buffer.add(obs[None], next_obs[None], *args, info)
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
            lengths.append(length)
            length = 0
    index = np.arange(capacity)
    kept = {s: int(b.is_valid(index, np.zeros_like(index)).sum()) for s, b in buffers.items()}
    print(f"random play: mean episode length {np.mean(lengths):.1f} steps, {steps} transitions added")
    print(f"kept of {capacity}: frame_slack 0.02 {kept[0.02]}, default {kept[None]}")


if __name__ == "__main__":
    main()
