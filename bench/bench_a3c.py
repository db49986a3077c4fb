"""``a3c`` on a C++ vector backend (``--backend ale_vector``, the default, or ``envpool``) vs SB3
``A2C`` on ``SubprocVecEnv``, measured side by side.

1. Env-only throughput (random actions, agent steps/s): the backend's ``VecEnv`` vs RL Zoo's
   pipeline (``SubprocVecEnv`` of ``AtariWrapper`` envs + ``VecFrameStack(4)`` +
   ``VecTransposeImage``), same game, same number of envs.
2. Training throughput (agent steps/s of ``learn``): ``A3C`` (``CnnLstmPolicy``: the trunk +
   a 256-cell LSTM) with its envs on envpool vs ``A2C`` (``CnnPolicy``: the same trunk, no LSTM)
   with RL Zoo's ``SubprocVecEnv`` pipeline; both with RL Zoo's A2C Atari settings (n_steps 5,
   RMSProp). The trunk is the A3C paper's network (``SmallCNN``, fc 256) or ``--extractor nature``.
3. Training throughput of the same ``A3C`` with its envs on the backend vs on RL Zoo's
   ``SubprocVecEnv`` pipeline: what the backend alone gives a whole training process.

Runs are interleaved (baseline, ours, baseline, ours, ...); each ``learn`` is warmed up first.

    python bench/bench_a3c.py --envs 16 --env-steps 4000 --train-steps 4000 --repeats 2 [--backend envpool]

``--breakdown`` also splits one timed a3c ``learn`` into env stepping (``step_wait``), the update
(``train``) and the rest (forward passes while acting, bookkeeping), with the CPU cores the
process used on average (``process_time / wall``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import ale_py
import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import A2C
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.torch_layers import NatureCNN
from stable_baselines3.common.vec_env import SubprocVecEnv, VecFrameStack, VecTransposeImage

from sb3_atari_ext import A3C
from sb3_atari_ext.torch_layers import SmallCNN
from sb3_atari_ext.wrappers.ale_vector import AleVecEnv
from sb3_atari_ext.wrappers.envpool import EnvpoolVecEnv

ENV_ID = "BreakoutNoFrameskip-v4"
BACKENDS = {"ale_vector": AleVecEnv, "envpool": EnvpoolVecEnv}
BACKEND = "ale_vector"  # set by --backend
gym.register_envs(ale_py)


def zoo_env(n_envs: int, seed: int):
    env = make_atari_env(ENV_ID, n_envs=n_envs, seed=seed, vec_env_cls=SubprocVecEnv)
    return VecTransposeImage(VecFrameStack(env, n_stack=4))


def ours_env(n_envs: int, seed: int):
    return BACKENDS[BACKEND](ENV_ID, n_envs=n_envs, seed=seed, frame_stack=4)


def env_steps_per_second(make, n_envs: int, steps: int, seed: int) -> float:
    env = make(n_envs, seed)
    env.reset()
    rng = np.random.default_rng(seed)
    n = env.action_space.n
    for _ in range(20):  # warm-up
        env.step(rng.integers(n, size=n_envs))
    iterations = max(1, steps // n_envs)
    start = time.perf_counter()
    for _ in range(iterations):
        env.step(rng.integers(n, size=n_envs))
    elapsed = time.perf_counter() - start
    env.close()
    return iterations * n_envs / elapsed


def trunk(name: str) -> dict:
    if name == "nature":
        return dict(features_extractor_class=NatureCNN, features_extractor_kwargs=dict(features_dim=512))
    return dict(features_extractor_class=SmallCNN, features_extractor_kwargs=dict(features_dim=256))


def train_steps_per_second(
    ours: bool, n_envs: int, steps: int, seed: int, extractor: str, a3c_on_subproc: bool = False
) -> float:
    common = dict(n_steps=5, learning_rate=7e-4, ent_coef=0.01, seed=seed, device="cpu")
    optimizer = dict(optimizer_class=RMSpropTFLike, optimizer_kwargs=dict(alpha=0.99, eps=1e-5))
    if ours:  # a3c's own RMSProp (SB3's RMSpropTFLike numbers in one foreach pass), same settings
        env = zoo_env(n_envs, seed) if a3c_on_subproc else ours_env(n_envs, seed)
        policy_kwargs = dict(trunk(extractor), lstm_hidden_size=256)
        model = A3C("CnnLstmPolicy", env, rms_prop_eps=1e-5, rms_prop_alpha=0.99, policy_kwargs=policy_kwargs, **common)
    else:
        env = zoo_env(n_envs, seed)
        model = A2C("CnnPolicy", env, vf_coef=0.25, policy_kwargs=dict(trunk(extractor), **optimizer), **common)
    model.learn(n_envs * 5 * 4)  # warm-up: 4 updates
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def a3c_breakdown(n_envs: int, steps: int, seed: int, extractor: str) -> str:
    """Where one timed a3c ``learn`` spends its wall time (see the module docstring)."""
    env = ours_env(n_envs, seed)
    model = A3C(
        "CnnLstmPolicy",
        env,
        n_steps=5,
        learning_rate=7e-4,
        ent_coef=0.01,
        rms_prop_eps=1e-5,
        seed=seed,
        device="cpu",
        policy_kwargs=dict(trunk(extractor), lstm_hidden_size=256),
    )
    spent = {"env": 0.0, "train": 0.0}

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return wrapper

    env.step_wait = timed("env", env.step_wait)
    model.train = timed("train", model.train)
    model.learn(n_envs * 5 * 4)
    spent.update(env=0.0, train=0.0)
    cpu, start = time.process_time(), time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    wall = time.perf_counter() - start
    cores = (time.process_time() - cpu) / wall
    env.close()
    rest = wall - spent["env"] - spent["train"]
    return (
        f"a3c breakdown: {steps / wall:,.0f} steps/s, wall {wall:.2f} s = env step {spent['env']:.2f} s "
        f"({spent['env'] / wall:.0%}) + update {spent['train']:.2f} s ({spent['train'] / wall:.0%}) + acting and "
        f"bookkeeping {rest:.2f} s ({rest / wall:.0%}); {cores:.2f} of {os.cpu_count()} cores busy"
    )


def report(name: str, baseline: list[float], ours: list[float], target: float) -> None:
    ratios = [o / b for o, b in zip(ours, baseline, strict=True)]
    print(
        f"{name}: baseline {statistics.median(baseline):,.0f} steps/s, ours {statistics.median(ours):,.0f} steps/s, "
        f"ratio {statistics.median(ratios):.2f}x (runs {', '.join(f'{r:.2f}' for r in ratios)}; target >= {target}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--env-steps", type=int, default=4000)
    parser.add_argument("--train-steps", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--extractor", choices=["small", "nature"], default="small")
    parser.add_argument("--breakdown", action="store_true", help="also split one a3c run into env / update / rest")
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="ale_vector")
    args = parser.parse_args()
    global BACKEND
    BACKEND = args.backend
    print(f"{ENV_ID}, {args.envs} envs, torch threads {th.get_num_threads()}, extractor {args.extractor}, backend {BACKEND}")

    base_env, ours_env_rates = [], []
    for repeat in range(args.repeats):
        base_env.append(env_steps_per_second(zoo_env, args.envs, args.env_steps, repeat))
        ours_env_rates.append(env_steps_per_second(ours_env, args.envs, args.env_steps, repeat))
    report(f"env only: {BACKEND} backend vs SubprocVecEnv + AtariWrapper", base_env, ours_env_rates, 2.0)

    base_train, ours_train = [], []
    for repeat in range(args.repeats):
        base_train.append(train_steps_per_second(False, args.envs, args.train_steps, repeat, args.extractor))
        ours_train.append(train_steps_per_second(True, args.envs, args.train_steps, repeat, args.extractor))
    report(f"training: a3c (LSTM) on {BACKEND} vs SB3 A2C on SubprocVecEnv", base_train, ours_train, 2.0)
    subproc = [
        train_steps_per_second(True, args.envs, args.train_steps, repeat, args.extractor, a3c_on_subproc=True)
        for repeat in range(args.repeats)
    ]
    report(f"training: a3c on {BACKEND} vs the same a3c on SubprocVecEnv", subproc, ours_train, 1.5)
    if args.breakdown:
        print(a3c_breakdown(args.envs, args.train_steps, 0, args.extractor))


if __name__ == "__main__":
    main()
