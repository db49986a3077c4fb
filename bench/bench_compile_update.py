"""Does ``torch.compile`` pay for the update of a small network on CPU? Eager vs compiled.

The performance issue asks whether compiling the update (or fused kernels) would lift ``ddqn_prio``
on MinAtar, where its update is compute-bound. This times the update's differentiable part as
``ddqn_prio`` runs it on the MinAtar plugin's network (one 3x3 conv of 16 filters, 128 hidden
units, batch 32, one torch thread): the online forward on s, the Double-DQN target (online and
target forwards on s', no gradient), the Huber loss weighted by importance weights, and the
backward. Eager and ``torch.compile`` (inductor, default mode) alternate in rounds; the ratio is
taken within each round, the median over rounds is printed. Compilation time is printed apart.

    python bench/bench_compile_update.py --updates 500 --repeats 3
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch as th
import torch.nn.functional as F
from gymnasium import spaces


def build(n_channels: int = 4, n_actions: int = 3) -> tuple[th.nn.Module, th.nn.Module]:
    from sb3_atari_minatar.torch_layers import MinAtarCNN

    space = spaces.Box(0, 1, (10, 10, n_channels), dtype=np.bool_)
    online = th.nn.Sequential(MinAtarCNN(space), th.nn.Linear(128, n_actions))
    return online, copy.deepcopy(online).requires_grad_(False)


def make_update(online: th.nn.Module, target: th.nn.Module):
    def update(obs, actions, rewards, next_obs, dones, weights) -> th.Tensor:
        with th.no_grad():
            next_actions = online(next_obs).argmax(dim=1, keepdim=True)
            next_q = target(next_obs).gather(1, next_actions).squeeze(1)
            target_q = rewards + 0.99 * (1.0 - dones) * next_q
        current_q = online(obs).gather(1, actions).squeeze(1)
        loss = (weights * F.smooth_l1_loss(current_q, target_q, reduction="none")).mean()
        loss.backward()
        return loss.detach()

    return update


def timed(update, params, batch, n: int) -> float:
    for _ in range(20):
        for p in params:
            p.grad = None
        update(*batch)
    start = time.perf_counter()
    for _ in range(n):
        for p in params:
            p.grad = None
        update(*batch)
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=500, help="timed updates per round and variant")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (eager, then compiled)")
    args = parser.parse_args()
    th.set_num_threads(1)
    th.manual_seed(0)
    online, target = build()
    params = list(online.parameters())
    gen = th.Generator().manual_seed(0)
    batch = (
        th.rand(32, 10, 10, 4, generator=gen) > 0.7,
        th.randint(0, 3, (32, 1), generator=gen),
        th.rand(32, generator=gen),
        th.rand(32, 10, 10, 4, generator=gen) > 0.7,
        (th.rand(32, generator=gen) > 0.9).float(),
        th.rand(32, generator=gen),
    )
    eager = make_update(online, target)
    start = time.perf_counter()
    compiled = th.compile(eager)
    compiled(*batch)
    print(f"first compiled call (compilation): {time.perf_counter() - start:.1f} s", flush=True)
    ratios, eager_us, compiled_us = [], [], []
    for repeat in range(args.repeats):
        e = timed(eager, params, batch, args.updates)
        c = timed(compiled, params, batch, args.updates)
        eager_us.append(e * 1e6)
        compiled_us.append(c * 1e6)
        ratios.append(e / c)
        print(f"round {repeat}: eager {e * 1e6:.0f} us, compiled {c * 1e6:.0f} us (speed-up {e / c:.2f}x)", flush=True)
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    print(
        f"torch.compile vs eager, MinAtar network update, batch 32, one thread: "
        f"{statistics.median(compiled_us):.0f} vs {statistics.median(eager_us):.0f} us, "
        f"speed-up {statistics.median(ratios):.2f}x (rounds {rounds})"
    )


if __name__ == "__main__":
    main()
