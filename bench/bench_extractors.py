"""Train-step cost of our feature extractors vs SB3's ``NatureCNN``, measured side by side.

Batch 32 of 4x84x84 uint8 stacks, channels-last on CPU as ``DDQNPrio`` does, one torch thread.
Two figures per policy, each the median over rounds of its time relative to ``CnnPolicy`` (Nature
CNN) in the same round:

- train step, as the networks issue defines its targets: new noise, the Double-DQN target
  (online and target forward on s', no grad), online forward + loss + backward;
- full update: the same plus the (fused) Adam step, as ``ddqn_prio`` runs it.

Policies are interleaved round by round, and the two measurements alternate within a round.

    python bench/bench_extractors.py --rounds 5 --steps 20
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch as th
from gymnasium import spaces

from sb3_atari_ext import DDQNPrio
from sb3_atari_ext.common.q_learning import double_q_target
from sb3_atari_ext.common.torch_utils import channels_last
from sb3_atari_ext.torch_layers.noisy import NoisyLinear, reset_noise

OBS = spaces.Box(0, 255, shape=(4, 84, 84), dtype=np.uint8)
ACT = spaces.Discrete(6)
POLICIES = ["CnnPolicy", "NoisyCnnPolicy", "TransformerPolicy", "LstmPolicy"]
TARGETS = {"NoisyCnnPolicy": 1.3, "TransformerPolicy": 2.0, "LstmPolicy": 2.0}


def make(name: str):
    policy = DDQNPrio.policy_aliases[name](OBS, ACT, lambda _: 1e-4)
    policy.to(memory_format=th.channels_last)
    return policy


def step(policy, obs, next_obs, actions, optimize: bool = True) -> None:
    reset_noise(policy)
    with th.no_grad():
        target = double_q_target(policy.q_net, policy.q_net_target, next_obs, th.zeros(32, 1), th.zeros(32, 1), 0.99)
    current = policy.q_net(obs).gather(1, actions)
    loss = th.nn.functional.smooth_l1_loss(current, target)
    policy.optimizer.zero_grad()
    loss.backward()
    if optimize:
        policy.optimizer.step()


def timed(policy, obs, next_obs, actions, steps: int, optimize: bool) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step(policy, obs, next_obs, actions, optimize)
    return (time.perf_counter() - start) / steps


def layer_ratio(rounds: int, steps: int) -> tuple[float, float, float]:
    """The Q-net's 3136x512 layer alone: ``NoisyLinear`` vs ``nn.Linear`` (ms, ms, median ratio).

    Per step, as in a train step: new noise, two no-grad forwards (online and target on s'), one
    forward + backward (s); batch 32.
    """
    x = th.randn(32, 3136, requires_grad=True)
    x_next = th.randn(32, 3136)
    pairs = {
        "linear": (th.nn.Linear(3136, 512), th.nn.Linear(3136, 512)),
        "noisy": (NoisyLinear(3136, 512), NoisyLinear(3136, 512)),
    }

    def one(online: th.nn.Module, target: th.nn.Module) -> None:
        reset_noise(online)
        reset_noise(target)
        with th.no_grad():
            online(x_next)
            target(x_next)
        online.zero_grad()
        x.grad = None
        online(x).sum().backward()

    times: dict[str, list[float]] = {name: [] for name in pairs}
    for _ in range(rounds):
        for name, (online, target) in pairs.items():
            one(online, target)
            start = time.perf_counter()
            for _ in range(steps):
                one(online, target)
            times[name].append((time.perf_counter() - start) / steps)
    ratio = statistics.median(n / b for n, b in zip(times["noisy"], times["linear"], strict=True))
    return statistics.median(times["linear"]) * 1e3, statistics.median(times["noisy"]) * 1e3, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    th.set_num_threads(1)
    rng = np.random.default_rng(0)
    obs = channels_last(th.as_tensor(rng.integers(0, 256, (32, *OBS.shape), dtype=np.uint8)))
    next_obs = channels_last(th.as_tensor(rng.integers(0, 256, (32, *OBS.shape), dtype=np.uint8)))
    actions = th.as_tensor(rng.integers(0, 6, (32, 1)))
    policies = {name: make(name) for name in POLICIES}
    times: dict[bool, dict[str, list[float]]] = {flag: {name: [] for name in POLICIES} for flag in (False, True)}
    for policy in policies.values():  # warm-up
        for _ in range(3):
            step(policy, obs, next_obs, actions)
    for round_ in range(args.rounds):
        for name, policy in policies.items():
            for optimize in (False, True) if round_ % 2 else (True, False):
                times[optimize][name].append(timed(policy, obs, next_obs, actions, args.steps, optimize))

    def ratio(flag: bool, name: str) -> float:  # median of per-round ratios: pairs cancel slow drifts of the machine
        return statistics.median(t / b for t, b in zip(times[flag][name], times[flag]["CnnPolicy"], strict=True))

    print(
        "| policy (extractor) | parameters (Q-net) | train step ms | train step vs NatureCNN | target "
        "| full update ms | full update vs NatureCNN |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, policy in policies.items():
        params = sum(p.numel() for p in policy.q_net.parameters())
        step_t, update_t = statistics.median(times[False][name]), statistics.median(times[True][name])
        target = f"<= {TARGETS[name]}x" if name in TARGETS else ""
        extractor = type(policy.q_net.features_extractor).__name__
        print(
            f"| {name} ({extractor}) | {params:,} | {step_t * 1e3:.1f} | **{ratio(False, name):.2f}x** | {target} "
            f"| {update_t * 1e3:.1f} | {ratio(True, name):.2f}x |"
        )
    linear_ms, noisy_ms, layer = layer_ratio(args.rounds, args.steps)
    print(
        f"\nlayer alone (3136x512, 3 forwards + backward): Linear {linear_ms:.1f} ms, "
        f"NoisyLinear {noisy_ms:.1f} ms, {layer:.2f}x"
    )


if __name__ == "__main__":
    main()
