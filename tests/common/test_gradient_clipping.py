"""``clip_and_check_gradients``: torch's ``clip_grad_norm_`` result, and a clear error on NaN."""

import pytest
import torch as th

from sb3_atari_ext.common.q_learning import NonFiniteLossError, clip_and_check_gradients


def _net_with_gradients(scale: float) -> th.nn.Module:
    th.manual_seed(0)
    net = th.nn.Sequential(th.nn.Conv2d(4, 8, 3), th.nn.ReLU(), th.nn.Flatten(), th.nn.Linear(8 * 8 * 8, 3))
    (scale * net(th.randn(16, 4, 10, 10)).sum()).backward()
    return net


@pytest.mark.parametrize(("scale", "max_norm"), [(1.0, 10.0), (1000.0, 10.0), (1000.0, 0.5)])
def test_clipping_equals_torch_clip_grad_norm(scale, max_norm):
    ours, reference = _net_with_gradients(scale), _net_with_gradients(scale)
    norm = clip_and_check_gradients(list(ours.parameters()), max_norm, "x", 0, 0)
    expected = th.nn.utils.clip_grad_norm_(reference.parameters(), max_norm)
    assert float(norm) == pytest.approx(float(expected), rel=1e-6)
    for a, b in zip(ours.parameters(), reference.parameters(), strict=True):
        assert th.allclose(a.grad, b.grad, rtol=1e-6, atol=0)
    clipped = th.linalg.vector_norm(th.stack([p.grad.norm() for p in ours.parameters()]))
    assert float(clipped) <= max_norm * (1 + 1e-5)


def test_a_non_finite_gradient_is_refused_before_any_change():
    net = _net_with_gradients(1.0)
    next(net.parameters()).grad[0] = float("nan")
    before = [p.grad.clone() for p in net.parameters()]
    with pytest.raises(NonFiniteLossError, match="gradient norm"):
        clip_and_check_gradients(list(net.parameters()), 10.0, "ddqn_prio", 3, 100)
    for grad, old in zip((p.grad for p in net.parameters()), before, strict=True):
        assert th.equal(grad.nan_to_num(), old.nan_to_num())
