"""Learning per wall-clock: MinAtar Breakout score after the same wall time, ``apex_ddqn`` (2 actors)
vs ``ddqn_prio``, both with the MinAtar plugin's default settings (its yaml files), one after
the other on the same machine. Each run trains for ``--minutes`` of wall time (no step budget),
then plays 10 evaluation episodes (deterministic policy, seeds 0-9).

    python bench/bench_apex_minatar.py --minutes 20 --out bench/learning/apex_wallclock.json

The last line reads ``score after N min: apex_ddqn X.X, ddqn_prio Y.Y``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch as th
import yaml
from stable_baselines3.common.callbacks import BaseCallback

from sb3_atari_ext import DDQNPrio
from sb3_atari_ext.apex import ApexDDQN, EnvFactory
from sb3_atari_ext.plugins import get_registry

ENV_ID = "MinAtar/Breakout-v1"


class WallClock(BaseCallback):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds, self.start = seconds, time.perf_counter()

    def _on_step(self) -> bool:
        return time.perf_counter() - self.start < self.seconds


HORIZON = 4  # times the yaml's n_timesteps: a schedule horizon neither run reaches in the wall time


def settings(algo: str) -> tuple[dict, int]:
    """The plugin's settings for ``algo`` and the step horizon to pass to ``learn``.

    ``learn`` needs a step budget for its schedules; the wall clock stops the run long before
    ``HORIZON`` times the yaml's budget, and ``exploration_fraction`` is scaled down by the same
    factor, so epsilon still goes from 1 to 0.1 over the same 100k steps as in the yaml (beta is
    annealed over the horizon in both runs alike)."""
    import sb3_atari_minatar
    from sb3_atari_minatar.torch_layers import MinAtarCNN

    path = Path(sb3_atari_minatar.__file__).parent / "hyperparams" / f"{algo}.yml"
    params = dict(yaml.safe_load(path.read_text())[ENV_ID])
    horizon = int(float(params.pop("n_timesteps")) * HORIZON)
    params.pop("policy")
    if "exploration_fraction" in params:
        params["exploration_fraction"] = float(params["exploration_fraction"]) / HORIZON
    params["policy_kwargs"] = eval(params["policy_kwargs"], {"dict": dict, "MinAtarCNN": MinAtarCNN})  # noqa: S307
    return params, horizon


def play(model, episodes: int = 10) -> float:
    env = EnvFactory(ENV_ID).make(1)
    returns = []
    for seed in range(episodes):
        env.seed(seed)
        obs, done, total = env.reset(), False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, dones, _ = env.step(action)
            total += float(reward[0])
            done = bool(dones[0])
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--out", default=None, help="JSON file for the figures")
    args = parser.parse_args()
    th.set_num_threads(1)
    get_registry().register_envs()
    results = {}
    for algo, cls in (("ddqn_prio", DDQNPrio), ("apex_ddqn", ApexDDQN)):
        extra = {"env_factory": EnvFactory(ENV_ID)} if cls is ApexDDQN else {}
        params, horizon = settings(algo)
        model = cls("MlpPolicy", EnvFactory(ENV_ID).make(1, seed=0), seed=0, **params, **extra)
        model.learn(horizon, callback=WallClock(args.minutes * 60))
        score = play(model)
        results[algo] = {"env_steps": int(model.num_timesteps), "updates": int(model._n_updates), "score": score}
        print(f"{algo}: {model.num_timesteps} env steps, {model._n_updates} updates, score {score:.1f}", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"env": ENV_ID, "minutes": args.minutes, "results": results}, indent=1))
    print(f"score after {args.minutes:g} min: apex_ddqn {results['apex_ddqn']['score']:.1f}, "
          f"ddqn_prio {results['ddqn_prio']['score']:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
