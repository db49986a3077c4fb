"""Why sb3-contrib's QR-DQN costs several times SB3's DQN per MinAtar run: the time of one update.

Same MinAtar network (conv 16 3x3 + fc 128), batch 32, one torch thread; each model collects 2,000
steps of MinAtar Breakout, then ``--updates`` gradient updates are timed. Needs the MinAtar plugin
(``pip install ./plugins/sb3-atari-minatar``).

    python bench/bench_qrdqn_cost.py --updates 200
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import torch as th
from sb3_atari_minatar.torch_layers import MinAtarCNN
from sb3_contrib import QRDQN
from stable_baselines3 import DQN

from sb3_atari_ext.zoo import autoload


def ms_per_update(algo: type, updates: int, **policy: object) -> float:
    network = dict(features_extractor_class=MinAtarCNN, net_arch=[], **policy)
    env = gym.make("MinAtar/Breakout-v1")
    settings = dict(learning_starts=1000, buffer_size=10_000, train_freq=4, device="cpu", seed=0)
    model = algo("MlpPolicy", env, policy_kwargs=network, **settings)
    model.learn(2000)
    start = time.perf_counter()
    model.train(updates, 32)
    return (time.perf_counter() - start) / updates * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=200)
    args = parser.parse_args()
    th.set_num_threads(1)
    autoload.apply()  # every installed plugin's env ids, MinAtar's included, as RL Zoo sees them
    dqn = ms_per_update(DQN, args.updates)
    print("| model | ms per update | ratio to DQN |\n|---|---|---|")
    print(f"| SB3 DQN | {dqn:.2f} | 1.00 |")
    for quantiles in (200, 50):
        qr = ms_per_update(QRDQN, args.updates, n_quantiles=quantiles)
        print(f"| QR-DQN, {quantiles} quantiles | {qr:.2f} | {qr / dqn:.2f} |")


if __name__ == "__main__":
    main()
