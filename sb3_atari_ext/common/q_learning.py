"""Q-learning pieces shared by ``ddqn_prio`` and the other value-based algorithms."""

from __future__ import annotations

import torch as th
from torch import nn


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; training stops before the bad update."""


def double_q_target(
    q_net: nn.Module,
    q_net_target: nn.Module,
    next_observations: th.Tensor,
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
) -> th.Tensor:
    """Double DQN target ``r + discount * (1 - done) * Q_target(s', argmax_a Q_online(s', a))``.

    van Hasselt, Guez, Silver 2016, Eq. 4: the online network selects the action, the target
    network evaluates it. Call under ``th.no_grad()``. ``discounts`` is gamma (1-step) or the
    per-sample gamma^k of an n-step return. Shapes: rewards/dones ``[batch, 1]``.
    """
    next_actions = q_net(next_observations).argmax(dim=1, keepdim=True)
    next_q = q_net_target(next_observations).gather(1, next_actions)
    return rewards + (1.0 - dones) * discounts * next_q


def split_q_targets(
    next_streams_online: th.Tensor,
    next_streams_target: th.Tensor,
    current_streams_target: th.Tensor,
    rewards: th.Tensor,
    dones: th.Tensor,
    gamma: float,
    weights: th.Tensor,
    memories: th.Tensor,
    joint_bootstrap: bool,
) -> th.Tensor:
    """Per-stream targets of Deep Split Q-learning (Lin, Bouneffouf, Cecchi 2019, arXiv 1906.11286).

    For stream s (0: reward, 1: punishment) with weight ``w_s`` and memory ``lambda_s``::

        y_s = w_s r_s + gamma (1 - done) Q_target_s(s', a*) - (1 - lambda_s) (1 - done) Q_target_s(s, a)

    ``a*`` is the Double-DQN action: chosen per stream by that stream's online values (seed 004),
    or jointly by the summed online values (``joint_bootstrap``). With joint bootstrap and all
    weights and memories 1, ``y_0 + y_1`` is the Double DQN target for ``Q = Q_0 + Q_1`` and
    ``r = r_0 + r_1``. Shapes: streams ``[batch, 2, n_actions]``, current ``[batch, 2]``,
    rewards ``[batch, 2]``, dones ``[batch, 1]``, weights/memories ``[2]``. Call under no_grad.
    """
    if joint_bootstrap:
        best = next_streams_online.sum(dim=1).argmax(dim=1)  # [batch]
        best = best[:, None, None].expand(-1, 2, 1)
    else:
        best = next_streams_online.argmax(dim=2, keepdim=True)  # [batch, 2, 1]
    next_values = next_streams_target.gather(2, best).squeeze(2)  # [batch, 2]
    alive = 1.0 - dones
    return weights * rewards + gamma * alive * next_values - (1.0 - memories) * alive * current_streams_target


def check_finite(loss_value: float, algo: str, n_updates: int, num_timesteps: int) -> None:
    """Raise :class:`NonFiniteLossError` with a clear message when the loss is NaN/inf."""
    if not (loss_value == loss_value and abs(loss_value) != float("inf")):
        raise NonFiniteLossError(
            f"{algo}: the loss is {loss_value} at gradient update {n_updates} (timestep {num_timesteps}). "
            "Training stopped before applying this update, so the parameters are still finite. "
            "Usual causes: a learning rate that is too high, unclipped rewards, or NaN observations."
        )
