"""MinAtar env stepping: the MinAtar plugin's ``minatar_vector`` backend vs RL Zoo's ``DummyVecEnv``.

128 envs of ``MinAtar/Breakout-v1`` (``pqn``'s MinAtar setting), random actions, seeds 0..127,
``--steps`` vectorized steps per run after a reset; the two alternate in rounds and the ratio is
taken within each round. Both give the same trajectories (``plugins/sb3-atari-minatar/tests``).
What pqn's whole training gains from it is ``bench/bench_small_network.py --algos pqn pqn_dummy``.

    python bench/bench_minatar_vec_env.py --steps 1500 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from stable_baselines3.common.env_util import make_vec_env

from sb3_atari_ext.plugins import get_registry

ENV_ID, N_ENVS = "MinAtar/Breakout-v1", 128


def steps_per_second(backend: str, steps: int) -> float:
    from sb3_atari_minatar.vec_env import MinAtarVecEnv

    env = make_vec_env(ENV_ID, n_envs=N_ENVS, seed=0) if backend == "dummy" else MinAtarVecEnv(ENV_ID, N_ENVS, seed=0)
    actions = np.random.default_rng(0).integers(0, env.action_space.n, (steps, N_ENVS))
    env.reset()
    start = time.perf_counter()
    for step_actions in actions:
        env.step(step_actions)
    rate = steps * N_ENVS / (time.perf_counter() - start)
    env.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500, help="vectorized steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (each runs both once)")
    args = parser.parse_args()
    get_registry().register_envs()
    ratios, ours, base = [], [], []
    for repeat in range(args.repeats):
        base.append(steps_per_second("dummy", args.steps))
        ours.append(steps_per_second("minatar_vector", args.steps))
        ratios.append(ours[-1] / base[-1])
        print(f"round {repeat}: DummyVecEnv {base[-1]:,.0f} env steps/s, minatar_vector {ours[-1]:,.0f} ({ratios[-1]:.2f}x)")
    print(
        f"env only, {N_ENVS} x {ENV_ID}: minatar_vector vs DummyVecEnv {statistics.median(ours):,.0f} vs "
        f"{statistics.median(base):,.0f} env steps/s, ratio {statistics.median(ratios):.2f}x "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)})"
    )


if __name__ == "__main__":
    main()
