"""The C51 projection (Bellemare et al. 2017, Alg. 1) against projections computed by hand; QR-DQN's loss and target."""

import pytest
import torch as th

from sb3_atari_ext.common.q_learning import categorical_projection, quantile_double_q_target, quantile_huber_loss

SUPPORT = th.tensor([-1.0, 0.0, 1.0])  # delta_z = 1
P = th.tensor([[0.2, 0.5, 0.3]])


def project(rewards, dones, discounts, probs=P):
    def col(value):
        return th.tensor([[float(value)]])

    return categorical_projection(probs, col(rewards), col(dones), col(discounts), SUPPORT)


@pytest.mark.parametrize(
    "reward, done, discount, expected",
    [
        # Tz = (-0.5, 0.5, 1.5 -> 1): atom 0 splits 0.1 / 0.1, atom 1 0.25 / 0.25, atom 2 lands on z=1
        (0.5, 0.0, 1.0, [0.1, 0.35, 0.55]),
        # terminal: every atom collapses onto r = 0.25, between z=0 (0.75) and z=1 (0.25)
        (0.25, 1.0, 0.99, [0.0, 0.75, 0.25]),
        # below the support: everything clipped onto v_min
        (-5.0, 0.0, 0.5, [1.0, 0.0, 0.0]),
        # above the support: everything clipped onto v_max
        (3.0, 0.0, 0.9, [0.0, 0.0, 1.0]),
        # a 2-step return with gamma 0.5: discount 0.25, Tz = (-0.25, 0, 0.25)
        (0.0, 0.0, 0.25, [0.05, 0.875, 0.075]),
        # every atom exactly on a support point (r = 1, gamma 1): the distribution shifts by one atom
        (1.0, 0.0, 1.0, [0.0, 0.2, 0.8]),
    ],
)
def test_projection_by_hand(reward, done, discount, expected):
    got = project(reward, done, discount)
    assert th.allclose(got, th.tensor([expected]), atol=1e-6), got
    assert got.sum().item() == pytest.approx(1.0)


def test_per_sample_n_step_discounts_in_one_batch():
    probs = P.repeat(2, 1)
    rewards, dones = th.tensor([[0.0], [0.5]]), th.zeros(2, 1)
    discounts = th.tensor([[0.25], [1.0]])  # gamma^2 of a 2-step return, 1 as in the first case
    got = categorical_projection(probs, rewards, dones, discounts, SUPPORT)
    assert th.allclose(got, th.tensor([[0.05, 0.875, 0.075], [0.1, 0.35, 0.55]]), atol=1e-6)


def test_many_atoms_keep_mass_and_mean_inside_the_support():
    support = th.linspace(-10, 10, 51)
    logits = th.randn(64, 51, generator=th.Generator().manual_seed(0))
    logits[:, :5] = logits[:, -5:] = -th.inf  # no mass within 2 of the bounds: nothing is clipped
    probs = th.softmax(logits, dim=1)
    rewards = th.linspace(-3, 3, 64).unsqueeze(1)
    got = categorical_projection(probs, rewards, th.zeros(64, 1), 0.99, support)
    assert th.allclose(got.sum(dim=1), th.ones(64), atol=1e-5) and (got >= 0).all()
    # unclipped, the projection keeps the mean: E[Tz] = r + 0.99 E[z]
    inside = (rewards.abs() < 1.5).squeeze(1)
    expected_mean = rewards.squeeze(1) + 0.99 * (probs * support).sum(dim=1)
    assert th.allclose((got * support).sum(dim=1)[inside], expected_mean[inside], atol=1e-4)


def test_q_lambda_returns_by_hand_with_a_terminal_and_a_truncation():
    from sb3_atari_ext.common.q_learning import q_lambda_returns

    gamma, lam = 0.5, 0.5
    # one env, 4 steps: step 1 terminates, step 2 is truncated (time limit), step 3 ends the rollout
    rewards = th.tensor([[1.0], [2.0], [0.0], [4.0]])
    next_q = th.tensor([[10.0], [99.0], [6.0], [8.0]])  # 99: max Q of a terminal state, never used
    terminated = th.tensor([[0.0], [1.0], [0.0], [0.0]])
    episode_ends = th.tensor([[0.0], [1.0], [1.0], [0.0]])
    got = q_lambda_returns(rewards, next_q, terminated, episode_ends, gamma, lam)
    g3 = 4.0 + 0.5 * 8.0  # rollout end: bootstrap from max Q(s'_3) = 8
    g2 = 0.0 + 0.5 * 6.0  # truncated: bootstrap from the true last observation only
    g1 = 2.0  # terminal: the reward alone
    g0 = 1.0 + 0.5 * (0.5 * 10.0 + 0.5 * g1)  # (1 - lambda) max Q(s'_0) + lambda G_1
    assert th.allclose(got, th.tensor([[g0], [g1], [g2], [g3]]))


def test_q_lambda_0_is_q_learning_and_1_is_the_bootstrapped_return():
    from sb3_atari_ext.common.q_learning import q_lambda_returns

    rewards = th.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    next_q = th.tensor([[3.0, 1.0], [2.0, 5.0], [4.0, 0.5]])
    zeros = th.zeros(3, 2)
    one_step = q_lambda_returns(rewards, next_q, zeros, zeros, 0.9, 0.0)
    assert th.allclose(one_step, rewards + 0.9 * next_q)
    full = q_lambda_returns(rewards, next_q, zeros, zeros, 0.9, 1.0)
    expected_last = rewards[2] + 0.9 * next_q[2]
    assert th.allclose(full[2], expected_last)
    assert th.allclose(full[0], rewards[0] + 0.9 * rewards[1] + 0.81 * expected_last)


def test_quantile_huber_loss_by_hand():
    """Two quantiles at tau 0.25 / 0.75 predicted at 0 and 1, target samples 0.5 and 3 (kappa 1):
    u = (0.5, 3) for the first, (-0.5, 2) for the second; Huber 0.125 / 2.5 and 0.125 / 1.5; weights
    0.25 / 0.25 and |0.75 - 1| = 0.25 / 0.75; mean over targets 0.328125 + 0.578125."""
    loss = quantile_huber_loss(th.tensor([[0.0, 1.0]]), th.tensor([[0.5, 3.0]]), th.tensor([0.25, 0.75]))
    assert loss.shape == (1,) and loss.item() == pytest.approx(0.90625)


def test_quantile_huber_loss_matches_sb3_contribs_reduction_and_sends_no_gradient_to_targets():
    from sb3_contrib.common.utils import quantile_huber_loss as contrib_loss

    gen = th.Generator().manual_seed(0)
    current = th.randn(8, 5, generator=gen, requires_grad=True)
    targets = (th.randn(8, 5, generator=gen) * 3).requires_grad_()
    taus = (th.arange(5) + 0.5) / 5
    ours = quantile_huber_loss(current, targets, taus)
    assert ours.shape == (8,)
    assert ours.mean().item() == pytest.approx(contrib_loss(current, targets.detach()).item(), rel=1e-6)
    ours.mean().backward()
    assert current.grad is not None and targets.grad is None


def test_a_single_quantile_descends_to_the_quantile_of_its_targets():
    samples = th.arange(1.0, 101.0).unsqueeze(0)  # 1..100: the 0.9-quantile is ~90
    theta = th.zeros(1, 1, requires_grad=True)
    optimizer = th.optim.SGD([theta], lr=1.0)
    for _ in range(3000):
        optimizer.zero_grad()
        quantile_huber_loss(theta, samples, th.tensor([0.9])).sum().backward()
        optimizer.step()
    assert 89.0 <= theta.item() <= 91.5


class _FixedQuantiles(th.nn.Module):
    """A network whose ``quantiles`` are a given tensor (the target functions only call that)."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def quantiles(self, obs):
        return self.values.expand(obs.shape[0], -1, -1)


def test_quantile_double_q_target_uses_the_online_argmax_and_collapses_on_terminals():
    # online means: action 0 -> 1.0, action 1 -> 2.0, so a* = 1; the target net prefers action 0
    online = _FixedQuantiles(th.tensor([[[0.0, 2.0], [1.0, 3.0]]]))
    target = _FixedQuantiles(th.tensor([[[9.0, 9.0], [-1.0, 1.0]]]))
    obs = th.zeros(2, 3)
    rewards, dones = th.tensor([[0.5], [0.5]]), th.tensor([[0.0], [1.0]])
    got = quantile_double_q_target(online, target, obs, rewards, dones, th.tensor([[0.9], [0.9]]))
    assert th.allclose(got, th.tensor([[0.5 - 0.9, 0.5 + 0.9], [0.5, 0.5]]))
