"""Noisy networks for exploration (Fortunato et al. 2018, "Noisy Networks for Exploration").

``NoisyLinear`` is the factorised-Gaussian layer of Sec. 3.2: ``w = mu_w + sigma_w * (f(e_out) f(e_in)^T)``
with ``f(x) = sign(x) sqrt(|x|)``, initialised as in Sec. 3.2 (``mu ~ U[-1/sqrt(p), 1/sqrt(p)]``,
``sigma = sigma_init / sqrt(p)``, p = fan-in, ``sigma_init`` 0.5). Noise is used in training mode
and while an algorithm collects experience (:func:`noisy_exploration`), and is off in evaluation
(``deterministic=True`` predictions, ``model.policy.eval()``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import NatureCNN
from torch import nn
from torch.nn import functional as F


class _FactorisedNoisyLinear(th.autograd.Function):
    """``y = x (mu_w + sigma_w * e_out e_in^T)^T + mu_b + sigma_b * e_out`` without forming the noisy weight.

    ``x (sigma_w * e_out e_in^T)^T = ((x * e_in) sigma_w^T) * e_out``, so the forward pass is two
    matmuls of the input's size and the backward pass four: ``dL/dsigma_w = (g * e_out)^T (x * e_in)``
    is a matmul reusing ``x * e_in`` from the forward pass, which measured faster on CPU than
    scaling ``dL/dmu_w`` by the outer product element-wise (two passes over a fresh weight-sized
    tensor; ``bench/RESULTS.md``).
    """

    @staticmethod
    def forward(ctx, x, weight_mu, weight_sigma, bias_mu, bias_sigma, eps_in, eps_out):  # type: ignore[override]
        x_noise = x * eps_in
        y = th.addmm(th.addcmul(bias_mu, bias_sigma, eps_out), x, weight_mu.t())
        y.addcmul_(th.mm(x_noise, weight_sigma.t()), eps_out)
        ctx.save_for_backward(x, x_noise, weight_mu, weight_sigma, eps_in, eps_out)
        return y

    @staticmethod
    def backward(ctx, grad_y):  # type: ignore[override]
        x, x_noise, weight_mu, weight_sigma, eps_in, eps_out = ctx.saved_tensors
        grad_x = grad_weight_mu = grad_weight_sigma = grad_bias_mu = grad_bias_sigma = None
        grad_noise = grad_y * eps_out
        if ctx.needs_input_grad[0]:
            grad_x = th.mm(grad_y, weight_mu).addcmul_(th.mm(grad_noise, weight_sigma), eps_in)
        if ctx.needs_input_grad[1]:
            grad_weight_mu = th.mm(grad_y.t(), x)
        if ctx.needs_input_grad[2]:
            grad_weight_sigma = th.mm(grad_noise.t(), x_noise)
        if ctx.needs_input_grad[3] or ctx.needs_input_grad[4]:
            grad_bias_mu = grad_y.sum(0)
            grad_bias_sigma = grad_bias_mu * eps_out
        return grad_x, grad_weight_mu, grad_weight_sigma, grad_bias_mu, grad_bias_sigma, None, None


class NoisyLinear(nn.Module):
    """Linear layer with learned, factorised Gaussian parameter noise.

    :param in_features: input width
    :param out_features: output width
    :param sigma_init: initial noise scale (Fortunato et al. use 0.5 for the factorised version)
    """

    def __init__(self, in_features: int, out_features: int, sigma_init: float = 0.5) -> None:
        super().__init__()
        if sigma_init < 0:
            raise ValueError(f"sigma_init must be >= 0, got {sigma_init}")
        self.in_features, self.out_features, self.sigma_init = in_features, out_features, sigma_init
        self.weight_mu = nn.Parameter(th.empty(out_features, in_features))
        self.weight_sigma = nn.Parameter(th.empty(out_features, in_features))
        self.bias_mu = nn.Parameter(th.empty(out_features))
        self.bias_sigma = nn.Parameter(th.empty(out_features))
        self.register_buffer("eps_in", th.zeros(in_features))
        self.register_buffer("eps_out", th.zeros(out_features))
        self.explore = False  # set by noisy_exploration(): noise on while collecting experience
        self.reset_parameters()
        self.reset_noise()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_features)
        nn.init.uniform_(self.weight_mu, -bound, bound)
        nn.init.uniform_(self.bias_mu, -bound, bound)
        nn.init.constant_(self.weight_sigma, self.sigma_init / math.sqrt(self.in_features))
        nn.init.constant_(self.bias_sigma, self.sigma_init / math.sqrt(self.in_features))

    @staticmethod
    def _scaled_noise(size: int, device: th.device) -> th.Tensor:
        x = th.randn(size, device=device)
        return x.sign() * x.abs().sqrt()

    @th.no_grad()
    def reset_noise(self) -> None:
        """Draw new factorised noise (Eq. 10-11): one vector per input and one per output."""
        self.eps_in.copy_(self._scaled_noise(self.in_features, self.eps_in.device))
        self.eps_out.copy_(self._scaled_noise(self.out_features, self.eps_out.device))

    @property
    def noisy(self) -> bool:
        return self.training or self.explore

    def forward(self, x: th.Tensor) -> th.Tensor:
        if not self.noisy:
            return F.linear(x, self.weight_mu, self.bias_mu)
        # (x * eps_in) W_sigma^T * eps_out == x (W_sigma * eps_out eps_in^T)^T, without the outer product
        flat = x.reshape(-1, self.in_features)
        y = _FactorisedNoisyLinear.apply(
            flat, self.weight_mu, self.weight_sigma, self.bias_mu, self.bias_sigma, self.eps_in, self.eps_out
        )
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, sigma_init={self.sigma_init}"


def noisy_layers(module: nn.Module) -> list[NoisyLinear]:
    """All ``NoisyLinear`` layers inside ``module``."""
    return [m for m in module.modules() if isinstance(m, NoisyLinear)]


Noisy = nn.Module | Sequence[NoisyLinear]


def _layers(noisy: Noisy) -> Sequence[NoisyLinear]:
    return noisy_layers(noisy) if isinstance(noisy, nn.Module) else noisy


def reset_noise(noisy: Noisy) -> None:
    """Resample the noise of every ``NoisyLinear`` inside a module (or of a list of layers found
    once with :func:`noisy_layers`: algorithms call this every step)."""
    for layer in _layers(noisy):
        layer.reset_noise()


@contextlib.contextmanager
def noisy_exploration(noisy: Noisy) -> Iterator[None]:
    """Keep noise on in the noisy layers of a module (or of a list of layers) inside the block,
    even in eval mode (acting)."""
    layers = _layers(noisy)
    for layer in layers:  # a plain attribute: skip nn.Module.__setattr__'s checks (every env step)
        layer.__dict__["explore"] = True
    try:
        yield
    finally:
        for layer in layers:
            layer.__dict__["explore"] = False


class NoisyNatureCNN(NatureCNN):
    """SB3's ``NatureCNN`` whose final linear layer is a :class:`NoisyLinear`.

    :param observation_space: image observation space
    :param features_dim: number of features
    :param normalized_image: whether the images are already in [0, 1]
    :param sigma_init: initial noise scale of the noisy layer
    """

    def __init__(
        self,
        observation_space: spaces.Box,
        features_dim: int = 512,
        normalized_image: bool = False,
        sigma_init: float = 0.5,
    ) -> None:
        super().__init__(observation_space, features_dim=features_dim, normalized_image=normalized_image)
        n_flatten = self.linear[0].in_features
        self.linear = nn.Sequential(NoisyLinear(n_flatten, features_dim, sigma_init), nn.ReLU())
