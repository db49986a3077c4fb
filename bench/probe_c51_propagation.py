"""How fast each Q head learns the values of a fixed policy on MinAtar Asterix, from the same data.

The learning grid found rainbow slow to start on Asterix, and a C51 agent stripped of every other
part far slower than the same agent with a scalar head (``bench/RESULTS.md``). This probe takes
exploration out: it records ``--steps`` transitions of the uniform-random policy once, then trains
each head offline to evaluate that policy (TD(0) with the next action taken in the data, a target
network copied every 1,000 updates, batch 32, Adam with the MinAtar yaml's step size and eps, one
torch thread, the MinAtar network), and every ``--every`` updates compares the head's Q(s, a) with
the Monte Carlo discounted returns of held-out transitions. Same data, same batches, same network
initialization for every head, one seed per ``--seeds``.

Heads: ``scalar`` (Huber loss, as SB3's DQN); ``c51`` (51 atoms on [-10, 10], cross-entropy to the
projected target, as rainbow); ``quantile`` (51 quantiles, quantile Huber loss, as QR-DQN). A C51
head takes options after ``+``: ``eps1e-8`` (Adam eps 1e-8), ``peaked`` (its output bias set so
that every action's first distribution sits on the atom at 0 instead of spreading evenly over the
support), ``vmin0`` (the support on [0, 10]); e.g. ``c51+peaked+eps1e-8``.
Needs the MinAtar plugin (``pip install ./plugins/sb3-atari-minatar``).

    python bench/probe_c51_propagation.py --steps 40000 --updates 20000
"""

from __future__ import annotations

import argparse
import copy
import time

import gymnasium as gym
import numpy as np
import torch as th
from sb3_atari_minatar.torch_layers import MinAtarCNN
from torch import nn
from torch.nn import functional as F

from sb3_atari_ext.common.q_learning import categorical_projection, quantile_huber_loss
from sb3_atari_ext.zoo import autoload

ENV_ID = "MinAtar/Asterix-v1"
GAMMA = 0.99
N_ATOMS = 51
V_MIN, V_MAX = -10.0, 10.0
HEADS = ("scalar", "c51", "c51+eps1e-8", "c51+peaked", "quantile")
C51_OPTIONS = ("eps1e-8", "peaked", "vmin0")


def record(steps: int, seed: int) -> dict[str, np.ndarray]:
    """``steps`` transitions of the uniform-random policy with the next action taken and each
    step's Monte Carlo discounted return (episodes end at termination; a cut-off last episode is dropped)."""
    env = gym.make(ENV_ID)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    rows: list[tuple] = []
    episode: list[tuple] = []
    action = env.action_space.sample()
    while len(rows) < steps:
        next_obs, reward, terminated, truncated, _ = env.step(action)
        next_action = env.action_space.sample()
        episode.append((obs, action, float(reward), next_obs, float(terminated), next_action))
        obs, action = next_obs, next_action
        if terminated or truncated:
            if terminated:  # returns are exact only for episodes that ended
                ret = 0.0
                for step in reversed(episode):
                    ret = step[2] + GAMMA * ret
                    rows.append((*step, ret))
            episode = []
            obs, _ = env.reset()
            action = env.action_space.sample()
    env.close()
    names = ("obs", "action", "reward", "next_obs", "done", "next_action", "mc_return")
    return {name: np.array([row[i] for row in rows]) for i, name in enumerate(names)}


class Net(nn.Module):
    def __init__(self, observation_space: gym.Space, n_actions: int, outputs: int) -> None:
        super().__init__()
        self.features = MinAtarCNN(observation_space)
        self.head = nn.Linear(128, n_actions * outputs)
        self.n_actions, self.outputs = n_actions, outputs

    def forward(self, obs: th.Tensor) -> th.Tensor:
        return self.head(self.features(obs)).view(-1, self.n_actions, self.outputs)


def train_head(name: str, data: dict[str, th.Tensor], test: dict[str, th.Tensor], space: gym.Space, n_actions: int,
               updates: int, every: int, seed: int, lr: float) -> list[tuple[int, float, float]]:  # fmt: skip
    th.manual_seed(seed)
    kind, *options = name.split("+")
    outputs = 1 if kind == "scalar" else N_ATOMS
    net = Net(space, n_actions, outputs)
    support = th.linspace(0.0 if "vmin0" in options else V_MIN, V_MAX, N_ATOMS)
    taus = (th.arange(N_ATOMS, dtype=th.float32) + 0.5) / N_ATOMS
    if "peaked" in options:
        with th.no_grad():  # the first distribution of every action on the atom at 0
            bias = th.full((N_ATOMS,), -5.0)
            bias[int(th.argmin(support.abs()))] = 5.0
            net.head.bias.copy_(bias.repeat(n_actions))
    target = copy.deepcopy(net)
    eps = 1e-8 if "eps1e-8" in options else 3.125e-4
    optimizer = th.optim.Adam(net.parameters(), lr=lr, eps=eps)
    generator = th.Generator().manual_seed(seed)
    n = data["reward"].shape[0]
    rows = (th.arange(32),)
    curve = []

    def mean_q(out: th.Tensor) -> th.Tensor:
        if kind == "scalar":
            return out.squeeze(-1)
        if kind == "quantile":
            return out.mean(-1)
        return (F.softmax(out, dim=-1) * support).sum(-1)

    for update in range(updates + 1):
        if update % every == 0:
            with th.no_grad():
                q = mean_q(net(test["obs"]))[th.arange(test["reward"].shape[0]), test["action"]]
                err, corr = q - test["mc_return"], np.corrcoef(q.numpy(), test["mc_return"].numpy())[0, 1]
                curve.append((update, float(err.pow(2).mean()), float(corr)))
        if update == updates:
            break
        if update % 1000 == 0:
            target.load_state_dict(net.state_dict())
        idx = th.randint(0, n, (32,), generator=generator)
        obs, act, rew = data["obs"][idx], data["action"][idx], data["reward"][idx].unsqueeze(1)
        done, next_obs, next_act = data["done"][idx].unsqueeze(1), data["next_obs"][idx], data["next_action"][idx]
        out = net(obs)[rows[0], act]
        with th.no_grad():
            next_out = target(next_obs)[rows[0], next_act]
            if kind in ("scalar", "quantile"):  # a scalar, or each quantile, shifted and discounted
                y = rew + GAMMA * (1 - done) * next_out
            else:
                y = categorical_projection(F.softmax(next_out, dim=-1), rew, done, GAMMA, support)
        if kind == "scalar":
            loss = F.smooth_l1_loss(out, y)
        elif kind == "quantile":
            loss = quantile_huber_loss(out, y, taus).mean()
        else:
            loss = -(y * F.log_softmax(out, dim=-1)).sum(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        optimizer.step()
    return curve


def head_name(name: str) -> str:
    kind, *options = name.split("+")
    if kind not in ("scalar", "c51", "quantile") or (options and kind != "c51") or set(options) - set(C51_OPTIONS):
        raise argparse.ArgumentTypeError(f"{name!r}: scalar, quantile, or c51 with +options from {', '.join(C51_OPTIONS)}")
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40_000, help="transitions of the random policy to record")
    parser.add_argument("--updates", type=int, default=20_000, help="gradient steps per head")
    parser.add_argument("--every", type=int, default=2_500, help="updates between comparisons")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2.5e-4)
    parser.add_argument("--heads", nargs="+", default=list(HEADS), type=head_name, help=f"default: {' '.join(HEADS)}")
    args = parser.parse_args()
    th.set_num_threads(1)
    autoload.apply()  # every installed plugin's env ids, MinAtar's included, as RL Zoo sees them
    env = gym.make(ENV_ID)
    space, n_actions = env.observation_space, int(env.action_space.n)
    env.close()
    for seed in range(args.seeds):
        start = time.perf_counter()
        raw = record(args.steps, seed)
        tensors = {k: th.as_tensor(v, dtype=th.long if "action" in k else th.float32) for k, v in raw.items()}
        n_test = min(2000, len(raw["reward"]) // 5)
        order = th.randperm(len(raw["reward"]), generator=th.Generator().manual_seed(seed))
        test = {k: v[order[:n_test]] for k, v in tensors.items()}
        data = {k: v[order[n_test:]] for k, v in tensors.items()}
        returns = test["mc_return"]
        print(f"seed {seed}: {len(raw['reward'])} transitions ({time.perf_counter() - start:.0f} s), held-out MC return "
              f"mean {float(returns.mean()):.3f}, std {float(returns.std()):.3f}; MSE of predicting its mean: "
              f"{float(returns.var()):.4f}")  # fmt: skip
        curves = {}
        for kind in args.heads:
            curves[kind] = train_head(kind, data, test, space, n_actions, args.updates, args.every, seed, args.lr)
        print("updates | " + " | ".join(f"{k} MSE (corr)" for k in args.heads))
        for i, (update, _, _) in enumerate(curves[args.heads[0]]):
            cells = [f"{curves[k][i][1]:.4f} ({curves[k][i][2]:+.2f})" for k in args.heads]
            print(f"{update} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
