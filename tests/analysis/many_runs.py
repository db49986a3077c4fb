"""A synthetic RL Zoo logs folder of 30 runs (monitor files, config.yml, metrics.yml) of mixed
algorithms, configurations, games and lengths, for the report and dashboard layout tests."""

import json

import numpy as np
import yaml

GAMES = ["Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"]
ATARI = {"env_wrapper": ["stable_baselines3.common.atari_wrappers.AtariWrapper"], "frame_stack": 4}
CONFIGS = {
    "dqn": [{"policy": "CnnPolicy", **ATARI}],
    "ddqn_prio": [{"policy": "CnnPolicy", **ATARI}, {"policy": "TransformerPolicy", **ATARI}],
    "a3c": [{"policy": "CnnLstmPolicy", "n_envs": 16, **ATARI}],
}


def _write_run(folder, algo, game, run_id, config, episodes, rng):
    env = f"{game}NoFrameskip-v4"
    run = folder / algo / f"{env}_{run_id}"
    (run / env).mkdir(parents=True)
    (run / env / "config.yml").write_text(yaml.safe_dump({**config, "n_timesteps": 1000000}))
    lengths = rng.integers(400, 2000, size=episodes)  # emulator frames (the Monitor sits under AtariWrapper)
    rewards = np.round(np.linspace(0, 50, episodes) + rng.normal(0, 5, episodes))
    lines = ["#" + json.dumps({"t_start": 0, "env_id": env}), "r,l,t"]
    lines += [f"{r},{n},{i + 1}.0" for i, (r, n) in enumerate(zip(rewards, lengths, strict=True))]
    (run / "0.monitor.csv").write_text("\n".join(lines) + "\n")
    steps = np.cumsum(lengths) // 4
    records = [{"timesteps": int(t), "loss": float(1 / (i + 1)), "q_mean": float(i)} for i, t in enumerate(steps[::5])]
    (run / "metrics.yml").write_text(yaml.safe_dump(records))
    return lengths


def write_many_runs(folder):
    """30 runs under ``folder`` (one of them, dqn on Breakout seed 0, has only 8 episodes)."""
    rng = np.random.default_rng(0)
    count = 0
    for algo, configs in CONFIGS.items():
        for c, config in enumerate(configs):
            for game in GAMES:
                seeds = 2 if (algo, c) != ("ddqn_prio", 1) else 1
                for seed in range(seeds):
                    if count >= 30:
                        break
                    episodes = 8 if (algo, game, seed) == ("dqn", "Breakout", 0) else int(rng.integers(30, 200))
                    run_id = 1 + c * 10 + seed
                    _write_run(folder, algo, game, run_id, config, episodes, rng)
                    count += 1
    return folder
