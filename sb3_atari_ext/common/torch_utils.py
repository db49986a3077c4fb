"""Small torch helpers shared by our algorithms."""

from __future__ import annotations

import inspect

import torch as th
from torch import nn


def prefers_channels_last(module: nn.Module, device: th.device) -> bool:
    """Whether ``module`` runs faster in channels-last memory format on ``device``.

    On CPU, oneDNN's convolutions (forward and backward) are about 10% faster with NHWC
    tensors (measured on the Nature CNN, batch 32, one thread); on CUDA the gain needs mixed
    precision, so we only switch on CPU.
    """
    return device.type == "cpu" and any(isinstance(m, nn.Conv2d) for m in module.modules())


def channels_last(tensor: th.Tensor) -> th.Tensor:
    """``tensor`` in channels-last layout when it is a 4D image batch, unchanged otherwise."""
    if isinstance(tensor, th.Tensor) and tensor.dim() == 4:
        return tensor.contiguous(memory_format=th.channels_last)
    return tensor


def fast_optimizer_kwargs(optimizer_class: type[th.optim.Optimizer], optimizer_kwargs: dict | None) -> dict:
    """``optimizer_kwargs`` with the optimizer's fastest multi-tensor kernel added unless the user chose.

    Adam / AdamW get ``fused=True``: ~6x faster than PyTorch's default per-tensor loop on CPU
    (1.6M parameters, one thread: 1.3 ms vs 8 ms a step), and it also exists on CUDA. Any other
    optimizer that takes ``foreach`` (RAdam, RMSprop, ...) gets ``foreach=True``: on CPU PyTorch
    defaults to its per-tensor loop, which for RAdam on the Nature CNN costs ~5x the ``foreach``
    step (``bench/RESULTS.md``). The arithmetic is the same (results equal to float rounding).
    """
    kwargs = dict(optimizer_kwargs or {})
    if {"fused", "foreach"} & set(kwargs):
        return kwargs
    if optimizer_class in (th.optim.Adam, th.optim.AdamW):
        kwargs["fused"] = True
    elif "foreach" in inspect.signature(optimizer_class.__init__).parameters:
        kwargs["foreach"] = True
    return kwargs
