"""pqn's training speed on Atari on CPU: what RAdam's multi-tensor kernel buys.

The Atari entry of ``hyperparams/pqn.yml`` (32 envs on ale-py's C++ vector env with RL Zoo's
preprocessing, 32 steps per rollout, 2 epochs x 32 minibatches, the Nature CNN with LayerNorm,
RAdam), one torch thread, Breakout. Two configurations, interleaved in rounds, each timed over
``--rollouts`` rollouts of acting and training after one untimed rollout:

- ``loop``: RAdam as PyTorch runs it by default on CPU (a Python loop over the tensors);
- ``foreach``: RAdam's multi-tensor kernel (``foreach=True``: what pqn passes unless the user sets
  ``optimizer_kwargs``).

The arithmetic is the same in both (equal to float rounding). Prints agent steps/s and the ratio
within each round, then the median.

    python bench/bench_pqn_atari.py --rollouts 4 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch as th

from sb3_atari_ext import PQN
from sb3_atari_ext.wrappers.ale_vector import AleVecEnv

ENV_ID = "BreakoutNoFrameskip-v4"
N_ENVS, N_STEPS = 32, 32
CONFIGS = ("loop", "foreach")


def steps_per_second(config: str, rollouts: int, seed: int) -> float:
    env = AleVecEnv(ENV_ID, n_envs=N_ENVS, seed=seed, frame_stack=4)
    optimizer_kwargs = {"foreach": False} if config == "loop" else None
    model = PQN(
        "CnnPolicy", env, n_steps=N_STEPS, n_epochs=2, n_minibatches=32, learning_rate=2.5e-4, q_lambda=0.65,
        max_grad_norm=10.0, exploration_final_eps=0.001, exploration_fraction=0.1, seed=seed, device="cpu",
        policy_kwargs=dict(optimizer_kwargs=optimizer_kwargs),
    )  # fmt: skip
    model.learn(N_ENVS * N_STEPS)  # one untimed rollout and its update
    steps = rollouts * N_ENVS * N_STEPS
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    rate = steps / (time.perf_counter() - start)
    env.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollouts", type=int, default=4, help="timed rollouts (1,024 agent steps each) per run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (each runs every configuration once)")
    args = parser.parse_args()
    th.set_num_threads(1)
    speeds: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for repeat in range(args.repeats):
        for name in CONFIGS:
            speeds[name].append(steps_per_second(name, args.rollouts, repeat))
        base = speeds["loop"][-1]
        parts = [f"{name} {speeds[name][-1]:.0f} steps/s ({speeds[name][-1] / base:.2f}x)" for name in CONFIGS]
        print(f"round {repeat}: " + ", ".join(parts), flush=True)
    for name in CONFIGS[1:]:
        ratios = [ours / base for ours, base in zip(speeds[name], speeds["loop"], strict=True)]
        print(
            f"pqn on {ENV_ID}, {N_ENVS} envs, one thread: {name} vs loop {statistics.median(speeds[name]):.0f} vs "
            f"{statistics.median(speeds['loop']):.0f} steps/s, ratio {statistics.median(ratios):.2f}x "
            f"(rounds {', '.join(f'{r:.2f}' for r in ratios)})"
        )


if __name__ == "__main__":
    main()
