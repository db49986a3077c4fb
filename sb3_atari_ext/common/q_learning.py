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


def check_finite(loss_value: float, algo: str, n_updates: int, num_timesteps: int) -> None:
    """Raise :class:`NonFiniteLossError` with a clear message when the loss is NaN/inf."""
    if not (loss_value == loss_value and abs(loss_value) != float("inf")):
        raise NonFiniteLossError(
            f"{algo}: the loss is {loss_value} at gradient update {n_updates} (timestep {num_timesteps}). "
            "Training stopped before applying this update, so the parameters are still finite. "
            "Usual causes: a learning rate that is too high, unclipped rewards, or NaN observations."
        )
