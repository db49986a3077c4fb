"""``apex_ddqn`` (Ray actors + one learner) vs single-process ``ddqn_prio``, side by side.

Same game (SpaceInvaders, RL Zoo's Atari pipeline: AtariWrapper, 4-frame stack, Nature CNN),
same learner settings (batch 32, Adam 6.25e-5, prioritized replay, one torch thread for the
learner), same wall time each. ``ddqn_prio`` acts and trains in one process (one update every 4
env steps); ``apex_ddqn`` runs ``--actors`` actor processes on a local Ray instance and the
learner in this process, with no replay-ratio cap by default (``--max-replay-ratio`` sets one).
Measured after learning starts: env steps/s and gradient updates/s, then their ratios.

    python bench/bench_apex.py                      # defaults: 2 actors, 150 s each, < 10 min
    python bench/bench_apex.py --actors 15 --device cuda --seconds 120   # on a many-core GPU host

The last line reads ``env steps/s ratio X.XX, updates/s ratio Y.YY`` (apex_ddqn / ddqn_prio).
"""

from __future__ import annotations

import argparse
import os
import time

import ale_py
import gymnasium as gym
import torch as th
from stable_baselines3.common.atari_wrappers import AtariWrapper
from stable_baselines3.common.callbacks import BaseCallback

from sb3_atari_ext import DDQNPrio
from sb3_atari_ext.apex import ApexDDQN, EnvFactory

ENV_ID = "SpaceInvadersNoFrameskip-v4"
gym.register_envs(ale_py)


class Clock(BaseCallback):
    """Stops ``learn`` after ``seconds`` of wall time; records the counters when learning starts."""

    def __init__(self, seconds: float, learning_starts: int) -> None:
        super().__init__()
        self.seconds, self.learning_starts = seconds, learning_starts
        self.mark: tuple[float, int, int] | None = None
        self.end: tuple[float, int, int] | None = None

    def _counters(self) -> tuple[float, int, int]:
        return time.perf_counter(), self.model.num_timesteps, self.model._n_updates

    def _on_step(self) -> bool:
        if self.mark is None:
            if self.model.num_timesteps > self.learning_starts:
                self.mark = self._counters()
            return True
        now = self._counters()
        if now[0] - self.mark[0] >= self.seconds:
            self.end = now
            return False
        return True

    def rates(self) -> tuple[float, float]:
        (t0, s0, u0), (t1, s1, u1) = self.mark, self.end or self._counters()  # type: ignore[misc]
        return (s1 - s0) / (t1 - t0), (u1 - u0) / (t1 - t0)


def learner_settings(args: argparse.Namespace) -> dict:
    return dict(
        learning_rate=6.25e-5, batch_size=32, buffer_size=args.buffer, learning_starts=args.learning_starts,
        target_update_interval=10_000, exploration_fraction=0.1, exploration_final_eps=0.01, device=args.device,
        seed=0, verbose=0,
    )  # fmt: skip


def measure(model, args: argparse.Namespace, name: str) -> tuple[float, float]:
    clock = Clock(args.seconds, args.learning_starts)
    start = time.perf_counter()
    model.learn(10**9, callback=clock)
    steps_s, updates_s = clock.rates()
    total = time.perf_counter() - start
    print(f"{name:>10}: {steps_s:8.1f} env steps/s, {updates_s:7.1f} updates/s "
          f"(over {args.seconds:.0f} s after {args.learning_starts} warm-up steps; {total:.0f} s in all)",
          flush=True)  # fmt: skip
    return steps_s, updates_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--envs-per-actor", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=150, help="timed wall time of each run")
    parser.add_argument("--learning-starts", type=int, default=2000)
    parser.add_argument("--buffer", type=int, default=50_000)
    parser.add_argument("--max-replay-ratio", type=float, default=None, help="apex_ddqn's cap (default: none)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    th.set_num_threads(1)
    factory = EnvFactory(ENV_ID, wrapper_class=AtariWrapper, frame_stack=4)
    print(f"{ENV_ID}, {os.cpu_count()} cores, torch {th.__version__}, device {args.device}, "
          f"apex_ddqn with {args.actors} actors x {args.envs_per_actor} envs", flush=True)  # fmt: skip

    single = DDQNPrio("CnnPolicy", factory.make(1, seed=0), train_freq=4, **learner_settings(args))
    base = measure(single, args, "ddqn_prio")
    del single

    apex = ApexDDQN(
        "CnnPolicy", factory.make(1, seed=0), env_factory=factory, n_actors=args.actors,
        n_envs_per_actor=args.envs_per_actor, max_replay_ratio=args.max_replay_ratio, weight_sync_interval=100,
        **learner_settings(args),
    )  # fmt: skip
    ours = measure(apex, args, "apex_ddqn")
    print(f"env steps/s ratio {ours[0] / base[0]:.2f}, updates/s ratio {ours[1] / base[1]:.2f}")


if __name__ == "__main__":
    main()
