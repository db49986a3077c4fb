"""How large the gradients of rainbow's C51 head are against Adam's eps, beside sb3-contrib's QR-DQN.

Adam's step is ``lr * m / (sqrt(v) + eps)``: where a weight's gradient RMS ``sqrt(v)`` is below
``eps``, the step shrinks in proportion and Adam acts like plain SGD. Both models train on MinAtar
Asterix with the same network, replay, exploration and Adam (lr 2.5e-4, eps 3.125e-4, as the
MinAtar plugin's yaml gives both), rainbow stripped to C51 + double Q (one-step returns, uniform
replay, no dueling, no noise), then the optimizer's state is read per layer. One torch thread.
Needs the MinAtar plugin (``pip install ./plugins/sb3-atari-minatar``).

    python bench/probe_adam_scale.py --steps 40000
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch as th
from sb3_atari_minatar.torch_layers import MinAtarCNN
from sb3_contrib import QRDQN

from sb3_atari_ext.rainbow import Rainbow
from sb3_atari_ext.zoo import autoload

ADAM_EPS = 3.125e-4
SETTINGS = dict(
    buffer_size=100_000,
    learning_rate=2.5e-4,
    batch_size=32,
    learning_starts=5000,
    target_update_interval=1000,
    train_freq=4,
    exploration_fraction=0.4,
    exploration_final_eps=0.1,
    device="cpu",
    seed=0,
)


def gradient_rms(model: object) -> dict[str, np.ndarray]:
    """``sqrt`` of Adam's bias-corrected second moment, per weight, for every layer with state."""
    optimizer = model.policy.optimizer
    beta2 = optimizer.param_groups[0]["betas"][1]
    out = {}
    for name, param in model.policy.named_parameters():
        state = optimizer.state.get(param)
        if state and name.endswith("weight") and "target" not in name:
            v_hat = state["exp_avg_sq"] / (1 - beta2 ** float(state["step"]))
            out[name.split(".", 1)[1]] = v_hat.sqrt().flatten().numpy()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40_000, help="agent steps of training before the state is read")
    args = parser.parse_args()
    th.set_num_threads(1)
    autoload.apply()  # every installed plugin's env ids, MinAtar's included, as RL Zoo sees them
    network = dict(features_extractor_class=MinAtarCNN, net_arch=[], optimizer_kwargs=dict(eps=ADAM_EPS))
    c51 = Rainbow(
        "MlpPolicy",
        gym.make("MinAtar/Asterix-v1"),
        n_steps=1,
        alpha=0.0,
        exploration_initial_eps=1.0,
        policy_kwargs=dict(network, dueling=False, noisy=False, noisy_extractor=False),
        **SETTINGS,
    )
    quantile = QRDQN("MlpPolicy", gym.make("MinAtar/Asterix-v1"), policy_kwargs=dict(network, n_quantiles=50), **SETTINGS)
    rows = {}
    for label, model in (("rainbow C51", c51), ("qrdqn", quantile)):
        model.learn(args.steps)
        rows[label] = gradient_rms(model)
    print(f"Adam eps {ADAM_EPS:g}, {args.steps:,} steps of MinAtar Asterix; per layer: median gradient RMS, share below eps")
    print("| layer | rainbow C51 | qrdqn | ratio C51 / qrdqn |")
    print("|---|---|---|---|")
    for (name, c), q in zip(rows["rainbow C51"].items(), rows["qrdqn"].values(), strict=True):
        ratio = np.median(c) / np.median(q)
        print(
            f"| {name} | {np.median(c):.1e} ({np.mean(c < ADAM_EPS):.0%}) | {np.median(q):.1e} ({np.mean(q < ADAM_EPS):.0%})"
            f" | {ratio:.2f} |"
        )


if __name__ == "__main__":
    main()
