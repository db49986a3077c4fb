"""One prepared run for a lent GPU: ours vs SB3, side by side, on the device, in under 8 minutes.

For each pair the same env pipeline (Space Invaders on ale-py's C++ vector env with RL Zoo's Atari
preprocessing and a 4-frame stack: the project's ``ale_vector`` backend, which needs no OpenCV),
the same network (Nature CNN) and the same settings, interleaved, on ``--device`` (``cuda`` when
there is one): learning starts are collected untimed, then ``--steps`` agent steps of acting and
training are timed.

On a device machine without registry access, install what it lacks (it has torch) from wheels
downloaded here: ``bash bench/gpu/prepare.sh`` (two folders, each under the 64 MiB a device call
carries), then two calls on the device: ``pip install --no-index --no-deps bench/gpu/wheels-1/*.whl``
(carrying ``bench/gpu/wheels-1``), then ``pip install --no-index --no-deps bench/gpu/wheels-2/*.whl &&
python bench/gpu/bench_gpu.py`` (carrying ``bench/gpu/wheels-2``) on the same warm machine.

- ``ddqn_prio`` vs SB3 ``DQN`` (1 env, batch 32, an update every 4 steps)
- ``rainbow`` vs SB3 ``DQN`` (the same; rainbow adds its C51 head and noisy layers)
- ``a3c`` vs SB3 ``A2C`` (16 envs, 5 steps)
- ``pqn`` vs SB3 ``DQN``: agent steps/s of each as it trains (pqn: 128 envs on ale-py's C++ vector
  env, the authors' Atari setting of 32 steps, 2 epochs x 32 minibatches; DQN as above). pqn has
  no replay and no target network: this is the speed that makes 10M frames fit in minutes.

Prints one table of steps/s and ratios; paste it into ``bench/RESULTS.md`` with the device's name.

    python bench/gpu/bench_gpu.py --steps 3000 --repeats 2          # on the device
    python bench/gpu/bench_gpu.py --steps 300 --on-policy-steps 800 --pqn-steps 2048 --pqn-envs 16 \
        --repeats 1 --device cpu                                          # a smoke check here
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch as th
from stable_baselines3 import A2C, DQN

from sb3_atari_ext import A3C, PQN, DDQNPrio, Rainbow
from sb3_atari_ext.wrappers.ale_vector import AleVecEnv

ENV_ID = "SpaceInvadersNoFrameskip-v4"


def atari(n_envs: int, seed: int):
    return AleVecEnv(ENV_ID, n_envs=n_envs, seed=seed, frame_stack=4)


def off_policy_rate(algo: type, steps: int, starts: int, seed: int, device: str) -> float:
    env = atari(1, seed)
    settings = dict(buffer_size=20_000, learning_starts=starts, batch_size=32, train_freq=4, gradient_steps=1,
                    target_update_interval=1000, learning_rate=1e-4, seed=seed, device=device)  # fmt: skip
    model = algo("CnnPolicy", env, **settings)
    model.learn(starts)
    return _timed(model, env, steps, device)


def on_policy_rate(algo: type, steps: int, seed: int, device: str) -> float:
    env = atari(16, seed)
    policy = "CnnLstmPolicy" if algo is A3C else "CnnPolicy"
    model = algo(policy, env, n_steps=5, learning_rate=7e-4, seed=seed, device=device)
    model.learn(16 * 5 * 4)  # warm-up: allocations, kernels
    return _timed(model, env, steps, device)


def pqn_rate(steps: int, n_envs: int, seed: int, device: str) -> float:
    env = atari(n_envs, seed)
    model = PQN("CnnPolicy", env, n_steps=32, n_epochs=2, n_minibatches=32, learning_rate=2.5e-4, seed=seed, device=device)
    model.learn(n_envs * 32)  # warm-up: one rollout and its update (allocations, kernels)
    return _timed(model, env, steps, device)


def _timed(model, env, steps: int, device: str) -> float:
    """Agent steps per second of ``steps`` more steps of acting and training."""
    _sync(device)
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    _sync(device)
    env.close()
    return steps / (time.perf_counter() - start)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        th.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000, help="timed agent steps per off-policy run")
    parser.add_argument("--learning-starts", type=int, default=1000)
    parser.add_argument("--on-policy-steps", type=int, default=16_000, help="timed agent steps per a3c/A2C run")
    parser.add_argument("--pqn-steps", type=int, default=40_960, help="timed agent steps per pqn run (10 rollouts)")
    parser.add_argument("--pqn-envs", type=int, default=128, help="pqn's envs (the authors' Atari setting)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cuda" if th.cuda.is_available() else "cpu")
    args = parser.parse_args()
    name = th.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    pairs = {
        "ddqn_prio vs DQN": (lambda s: off_policy_rate(DQN, args.steps, args.learning_starts, s, args.device),
                             lambda s: off_policy_rate(DDQNPrio, args.steps, args.learning_starts, s, args.device)),
        "rainbow vs DQN": (lambda s: off_policy_rate(DQN, args.steps, args.learning_starts, s, args.device),
                           lambda s: off_policy_rate(Rainbow, args.steps, args.learning_starts, s, args.device)),
        "a3c vs A2C": (lambda s: on_policy_rate(A2C, args.on_policy_steps, s, args.device),
                       lambda s: on_policy_rate(A3C, args.on_policy_steps, s, args.device)),
        "pqn vs DQN": (lambda s: off_policy_rate(DQN, args.steps, args.learning_starts, s, args.device),
                       lambda s: pqn_rate(args.pqn_steps, args.pqn_envs, s, args.device)),
    }  # fmt: skip
    print(f"| pair | device | SB3 steps/s (median) | ours steps/s (median) | ratio (median of {args.repeats} runs) |")
    print("|---|---|---|---|---|")
    for label, (baseline, ours) in pairs.items():
        rows = []
        for rep in range(args.repeats):
            b, o = baseline(rep), ours(rep)
            rows.append((b, o, o / b))
        b, o, r = (statistics.median(col) for col in zip(*rows, strict=True))
        print(f"| {label} | {name} | {b:.1f} | {o:.1f} | **{r:.2f}x** |", flush=True)


if __name__ == "__main__":
    main()
