"""Training throughput on a small network: ``ddqn_prio`` (and ``rainbow``) vs SB3 ``DQN`` on MinAtar.

The MinAtar plugin's network (one 3x3 conv of 16 filters, a 128-unit hidden layer) and settings
(batch 32, one update every 4 steps, replay 100k, Adam 2.5e-4, target every 1,000 steps), epsilon
held at 0.1 (the value of most of a run: nine steps in ten act through the network), one torch
thread, MinAtar Breakout. Each run collects ``--learning-starts`` steps untimed (plus 1,000 of
training), then times ``--steps`` steps of acting + training. Runs alternate between the
algorithms; the ratio is taken within each round, the median over rounds is reported.

    python bench/bench_small_network.py --steps 20000 --repeats 3

Targets: ``ddqn_prio`` >= 1.5x SB3 ``DQN`` (the performance issue); ``pqn`` (``--algos pqn``: 128
envs in one process on the MinAtar plugin's ``minatar_vector`` backend, the plugin's settings,
learning from every step) >= 10x; ``pqn_dummy`` is the same on RL Zoo's ``DummyVecEnv``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch as th
from stable_baselines3 import DQN

from sb3_atari_ext.plugins import get_registry

ENV_ID = "MinAtar/Breakout-v1"


def steps_per_second(name: str, steps: int, learning_starts: int, seed: int) -> float:
    import gymnasium as gym
    from sb3_atari_minatar.torch_layers import MinAtarCNN

    from sb3_atari_ext import DDQNPrio
    from sb3_atari_ext.rainbow import Rainbow

    if name in ("pqn", "pqn_dummy"):
        return _pqn_steps_per_second(steps, seed, vec_env="dummy" if name == "pqn_dummy" else "minatar_vector")
    algo = {"dqn": DQN, "ddqn_prio": DDQNPrio, "rainbow": Rainbow}[name]
    env = gym.make(ENV_ID)
    extra = {} if name == "rainbow" else {"exploration_initial_eps": 0.1, "exploration_final_eps": 0.1}
    model = algo(
        "MlpPolicy",
        env,
        buffer_size=100_000,
        learning_rate=2.5e-4,
        learning_starts=learning_starts,
        batch_size=32,
        train_freq=4,
        gradient_steps=1,
        target_update_interval=1000,
        gamma=0.99,
        policy_kwargs=dict(features_extractor_class=MinAtarCNN, net_arch=[]),
        seed=seed,
        device="cpu",
        **extra,
    )
    model.learn(learning_starts + 1000)  # fill the buffer, then 250 updates (untimed)
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return steps / (time.perf_counter() - start)


def _pqn_steps_per_second(steps: int, seed: int, vec_env: str = "minatar_vector") -> float:
    """pqn with the MinAtar plugin's settings (128 envs in one process on the plugin's
    ``minatar_vector`` backend, 32 steps per rollout, 2 epochs of 32 minibatches, the same network
    with LayerNorm), after one untimed rollout; it learns from every step, as the others do after
    ``learning_starts``. ``vec_env="dummy"``: the same 128 envs as RL Zoo's ``DummyVecEnv``."""
    from sb3_atari_minatar.torch_layers import MinAtarCNN
    from sb3_atari_minatar.vec_env import MinAtarVecEnv
    from stable_baselines3.common.env_util import make_vec_env

    from sb3_atari_ext.pqn import PQN

    vec_env_class = make_vec_env if vec_env == "dummy" else MinAtarVecEnv
    env = vec_env_class(ENV_ID, n_envs=128, seed=seed)
    model = PQN(
        "MlpPolicy", env, n_steps=32, n_epochs=2, n_minibatches=32, learning_rate=5e-4, q_lambda=0.65,
        max_grad_norm=10.0, exploration_final_eps=0.05, exploration_fraction=0.1, seed=seed, device="cpu",
        policy_kwargs=dict(features_extractor_class=MinAtarCNN, net_arch=[]),
    )  # fmt: skip
    model.learn(128 * 32)
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="timed agent steps per run")
    parser.add_argument("--learning-starts", type=int, default=5_000, help="untimed steps before learning")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (each runs every algorithm once)")
    parser.add_argument(
        "--algos", nargs="+", default=["ddqn_prio"], help="compared with dqn: ddqn_prio, rainbow, pqn, pqn_dummy"
    )
    parser.add_argument("--pqn-steps", type=int, default=200_000, help="timed agent steps of pqn (it is faster)")
    args = parser.parse_args()
    th.set_num_threads(1)
    get_registry().register_envs()
    ratios: dict[str, list[float]] = {name: [] for name in args.algos}
    speeds: dict[str, list[float]] = {name: [] for name in ["dqn", *args.algos]}
    for repeat in range(args.repeats):
        base = steps_per_second("dqn", args.steps, args.learning_starts, repeat)
        speeds["dqn"].append(base)
        line = [f"round {repeat}: SB3 DQN {base:.0f} steps/s"]
        for name in args.algos:
            timed = args.pqn_steps if name.startswith("pqn") else args.steps
            ours = steps_per_second(name, timed, args.learning_starts, repeat)
            speeds[name].append(ours)
            ratios[name].append(ours / base)
            line.append(f"{name} {ours:.0f} steps/s ({ours / base:.2f}x)")
        print(", ".join(line), flush=True)
    for name in args.algos:
        runs = ", ".join(f"{r:.2f}" for r in ratios[name])
        target = "10x" if name.startswith("pqn") else "1.5x"
        print(
            f"{name} vs SB3 DQN on {ENV_ID}, one thread: {statistics.median(speeds[name]):.0f} vs "
            f"{statistics.median(speeds['dqn']):.0f} steps/s, ratio {statistics.median(ratios[name]):.2f}x "
            f"(rounds {runs}; target >= {target})"
        )


if __name__ == "__main__":
    main()
