"""Training throughput of ``ddqn_prio`` vs SB3 ``DQN`` on Space Invaders, measured side by side.

Same env pipeline (RL Zoo's: AtariWrapper, 4-frame stack), same hyperparameters (batch 32, one
gradient step every 4 agent steps, Nature CNN), one torch thread each, runs interleaved
(DQN, ddqn_prio, DQN, ddqn_prio, ...). Each run first collects ``learning_starts`` steps
(not timed), then times ``--steps`` steps of acting + training.

    python bench/bench_train_speed.py --steps 4000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import ale_py
import gymnasium as gym
import torch as th
from stable_baselines3 import DQN
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import VecFrameStack

from sb3_atari_ext import DDQNPrio

ENV_ID = "SpaceInvadersNoFrameskip-v4"
gym.register_envs(ale_py)


def steps_per_second(algo: type, steps: int, learning_starts: int, seed: int, **extra) -> float:
    env = VecFrameStack(make_atari_env(ENV_ID, n_envs=1, seed=seed), n_stack=4)
    model = algo(
        "CnnPolicy",
        env,
        buffer_size=20_000,
        learning_starts=learning_starts,
        batch_size=32,
        train_freq=4,
        gradient_steps=1,
        target_update_interval=1000,
        exploration_fraction=0.1,
        learning_rate=1e-4,
        seed=seed,
        device="cpu",
        **extra,
    )
    model.learn(learning_starts)  # fill the buffer, untimed
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--learning-starts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    th.set_num_threads(args.threads)

    rows = []
    for rep in range(args.repeats):
        dqn = steps_per_second(DQN, args.steps, args.learning_starts, seed=rep)
        ours = steps_per_second(DDQNPrio, args.steps, args.learning_starts, seed=rep)
        rows.append((dqn, ours, ours / dqn))
        print(f"run {rep}: SB3 DQN {dqn:.1f} steps/s, ddqn_prio {ours:.1f} steps/s, ratio {ours / dqn:.3f}", flush=True)
    ratio = statistics.median(r[2] for r in rows)
    print()
    print("| env | threads | steps timed | SB3 DQN steps/s (median) | ddqn_prio steps/s (median) | ratio (median of runs) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {ENV_ID} | {args.threads} | {args.steps} | {statistics.median(r[0] for r in rows):.1f} | "
        f"{statistics.median(r[1] for r in rows):.1f} | **{ratio:.3f}x** |"
    )


if __name__ == "__main__":
    main()
