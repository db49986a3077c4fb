"""Q-learning pieces shared by ``ddqn_prio`` and the other value-based algorithms."""

from __future__ import annotations

from typing import Any

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
    """Per-stream targets of Deep Split Q-learning (Lin, Bouneffouf, Cecchi, IJCAI 2019, arXiv 1906.12350).

    The paper's tabular rule (Alg. 1) for stream s with reward weight ``w_s`` and memory
    ``lambda_s`` is ``Q_s(s, a) <- lambda_s Q_s(s, a) + alpha (w_s r_s + gamma V_s(s') - Q_s(s, a))``:
    the memory scales the value already accumulated, whatever happens next. As a regression target
    (step size 1 folded in, the bootstrap from the target network)::

        y_s = w_s r_s + gamma (1 - done) Q_target_s(s', a*) - (1 - lambda_s) Q_target_s(s, a)

    The memory term applies at episode ends too (it concerns ``Q(s, a)``, not ``s'``). With
    ``lambda_s < 1`` values are forgotten on purpose: the fixed point of a chain with reward r is
    ``w r / (2 - lambda - gamma)`` instead of ``w r / (1 - gamma)``, the paper's model of reward
    processing that fades; ``lambda_s = 1`` gives ordinary Double-DQN targets per stream.
    ``a*`` is the Double-DQN action: chosen per stream by that stream's online values, or jointly
    by the summed online values (``joint_bootstrap``). With joint bootstrap and all weights and
    memories 1, ``y_0 + y_1`` is the Double DQN target for ``Q = Q_0 + Q_1`` and
    ``r = r_0 + r_1``. Shapes: streams ``[batch, 2, n_actions]``, current ``[batch, 2]``,
    rewards ``[batch, 2]``, dones ``[batch, 1]``, weights/memories ``[2]``. Call under no_grad.
    """
    if joint_bootstrap:
        best = next_streams_online.sum(dim=1).argmax(dim=1)  # [batch]
        best = best[:, None, None].expand(-1, 2, 1)
    else:
        best = next_streams_online.argmax(dim=2, keepdim=True)  # [batch, 2, 1]
    next_values = next_streams_target.gather(2, best).squeeze(2)  # [batch, 2]
    return weights * rewards + gamma * (1.0 - dones) * next_values - (1.0 - memories) * current_streams_target


def split_q_priorities(current: th.Tensor, targets: th.Tensor) -> th.Tensor:
    """Replay priorities of split-Q samples: ``|delta_0| + |delta_1|``, the sum of the per-stream
    absolute TD errors (``[batch]``).

    Summing signed errors first would let the streams cancel (-2.99 and +2.0 give 0.99) and
    under-replay exactly the transitions both streams get wrong.
    """
    return (current - targets).abs().sum(dim=1)


def check_finite(loss_value: float, algo: str, n_updates: int, num_timesteps: int, what: str = "loss") -> None:
    """Raise :class:`NonFiniteLossError` with a clear message when the loss (or ``what``) is NaN/inf."""
    if not (loss_value == loss_value and abs(loss_value) != float("inf")):
        raise NonFiniteLossError(
            f"{algo}: the {what} is {loss_value} at gradient update {n_updates} (timestep {num_timesteps}). "
            "Training stopped before applying this update, so the parameters are still finite. "
            "Usual causes: a learning rate that is too high, unclipped rewards, or NaN observations."
        )


def clip_and_check_gradients(parameters: Any, max_norm: float, algo: str, n_updates: int, num_timesteps: int) -> th.Tensor:
    """``clip_grad_norm_`` that refuses a non-finite gradient norm before the optimizer step (a finite
    loss can still overflow in its gradients; stepping then would write NaN into every weight)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return th.zeros(())
    # clip_grad_norm_'s arithmetic without its per-call grouping by device and dtype (~45 us of a
    # ~90 us call on a small network; a model's gradients are all on its one device)
    norm = th.linalg.vector_norm(th.stack(th._foreach_norm(grads)))
    check_finite(float(norm), algo, n_updates, num_timesteps, what="gradient norm")
    th._foreach_mul_(grads, (max_norm / (norm + 1e-6)).clamp(max=1.0))
    return norm


def categorical_projection(
    next_probs: th.Tensor,
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
    support: th.Tensor,
) -> th.Tensor:
    """The C51 target distribution (Bellemare, Dabney, Munos 2017, Alg. 1), projected onto ``support``.

    Each atom ``z_j`` of the next state's distribution moves to ``Tz_j = r + discount (1 - done) z_j``,
    clipped to ``[v_min, v_max]``, and its probability is split between the two neighbouring atoms
    in proportion to the distance (``m_l += p_j (u - b_j)``, ``m_u += p_j (b_j - l)``). An atom that
    lands exactly on a support point (``l == u``) keeps its whole probability there. ``discount``
    is gamma or the per-sample gamma^k of an n-step return (Hessel et al. 2018, Eq. 2); at a
    terminal transition every atom collapses onto ``r``.
    Shapes: ``next_probs [batch, n_atoms]``, rewards/dones ``[batch, 1]``, support ``[n_atoms]``
    (evenly spaced). Returns ``[batch, n_atoms]`` probabilities. Call under ``th.no_grad()``.
    """
    v_min, v_max = support[0], support[-1]
    delta_z = (v_max - v_min) / (support.numel() - 1)
    tz = (rewards + (1.0 - dones) * discounts * support.unsqueeze(0)).clamp(v_min, v_max)
    b = (tz - v_min) / delta_z
    lower, upper = b.floor().long(), b.ceil().long()
    # float error can put b a hair outside [0, n_atoms - 1]
    lower, upper = lower.clamp(0, support.numel() - 1), upper.clamp(0, support.numel() - 1)
    target = th.zeros_like(next_probs)
    target.scatter_add_(1, lower, next_probs * (upper.to(b.dtype) + (lower == upper).to(b.dtype) - b))
    target.scatter_add_(1, upper, next_probs * (b - lower.to(b.dtype)))
    return target


def categorical_double_q_target(
    q_net: nn.Module,
    q_net_target: nn.Module,
    next_observations: th.Tensor,
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
    support: th.Tensor,
) -> th.Tensor:
    """Rainbow's target distribution (Hessel et al. 2018, Sec. 3): the online network picks
    ``a* = argmax_a sum_j z_j p_j(s', a)`` (double Q), the target network's distribution for ``a*``
    is projected with :func:`categorical_projection`. Both networks expose ``log_probs(obs)`` of
    shape ``[batch, n_actions, n_atoms]``. Call under ``th.no_grad()``."""
    next_actions = (q_net.log_probs(next_observations).exp() * support).sum(dim=2).argmax(dim=1)
    next_log_probs = q_net_target.log_probs(next_observations)
    chosen = next_log_probs[th.arange(next_log_probs.shape[0], device=next_log_probs.device), next_actions]
    return categorical_projection(chosen.exp(), rewards, dones, discounts, support)


def quantile_huber_loss(quantiles: th.Tensor, target_quantiles: th.Tensor, taus: th.Tensor, kappa: float = 1.0) -> th.Tensor:
    """QR-DQN's quantile Huber loss per sample (Dabney et al. 2018, Eq. 9-10).

    With ``u_ij = T theta_j - theta_i`` (target sample j minus predicted quantile i at midpoint
    ``tau_i``), ``rho_i(u) = |tau_i - 1{u < 0}| L_kappa(u) / kappa`` where ``L_kappa`` is the Huber
    loss; the loss of a sample is the sum over i of the mean over j (sb3-contrib's ``qrdqn`` and the
    paper use the same reduction). Shapes: quantiles ``[batch, N]``, target_quantiles ``[batch, N']``
    (no gradient flows into them), taus ``[N]``. Returns ``[batch]``.
    """
    u = target_quantiles.detach().unsqueeze(1) - quantiles.unsqueeze(2)  # [batch, N, N']
    abs_u = u.abs()
    huber = th.where(abs_u <= kappa, 0.5 * u.pow(2), kappa * (abs_u - 0.5 * kappa))
    weight = (taus.view(1, -1, 1) - (u.detach() < 0).to(u.dtype)).abs()
    return (weight * huber).mean(dim=2).sum(dim=1) / kappa


def quantile_double_q_target(
    q_net: nn.Module,
    q_net_target: nn.Module,
    next_observations: th.Tensor,
    rewards: th.Tensor,
    dones: th.Tensor,
    discounts: th.Tensor | float,
) -> th.Tensor:
    """The quantile head's target: the online network picks ``a* = argmax_a mean_i theta_i(s', a)``
    (double Q), the target network's quantiles for ``a*`` are shifted: ``r + discount (1 - done)
    theta_j(s', a*)``. Both networks expose ``quantiles(obs)`` of shape ``[batch, n_actions, N]``.
    Call under ``th.no_grad()``. Returns ``[batch, N]``."""
    next_actions = q_net.quantiles(next_observations).mean(dim=2).argmax(dim=1)
    next_quantiles = q_net_target.quantiles(next_observations)
    chosen = next_quantiles[th.arange(next_quantiles.shape[0], device=next_quantiles.device), next_actions]
    return rewards + (1.0 - dones) * discounts * chosen


def q_lambda_returns(
    rewards: th.Tensor,
    next_q: th.Tensor,
    terminated: th.Tensor,
    episode_ends: th.Tensor,
    gamma: float,
    q_lambda: float,
) -> th.Tensor:
    """Peng's Q(lambda) returns of a rollout, computed backwards (Gallici et al. 2024, PQN, Eq. 5).

    ``G_t = r_t + gamma (1 - term_t) [(1 - lambda) max_a Q(s'_t, a) + lambda G_{t+1}]``, where
    ``G_{t+1}`` is replaced by ``max_a Q(s'_t, a)`` when the episode ends at ``t`` (a truncated
    episode bootstraps from its true last observation and does not continue into the next one)
    or at the end of the rollout. ``lambda = 0`` gives one-step Q-learning targets, ``lambda = 1``
    the discounted return bootstrapped at the rollout's end.
    Shapes ``[n_steps, n_envs]``: ``next_q[t]`` is ``max_a Q(s'_t, a)`` of the observation that
    followed step t (the terminal observation when the episode ended); ``terminated[t]`` is 1 when
    step t ended the episode in a terminal state; ``episode_ends[t]`` is 1 when it ended for any
    reason (termination or truncation). Call under ``th.no_grad()``.
    """
    returns = th.empty_like(rewards)
    following = next_q[-1]
    for t in range(rewards.shape[0] - 1, -1, -1):
        if t < rewards.shape[0] - 1:  # the return of the next step, unless the episode ended here
            following = th.where(episode_ends[t].bool(), next_q[t], returns[t + 1])
        bootstrap = (1.0 - q_lambda) * next_q[t] + q_lambda * following
        returns[t] = rewards[t] + gamma * (1.0 - terminated[t]) * bootstrap
    return returns
