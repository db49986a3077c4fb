"""Optimizers: SB3's TensorFlow-style RMSProp with one fused pass over all parameters."""

from __future__ import annotations

from collections.abc import Callable

import torch
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike as _SB3RMSpropTFLike


class RMSpropTFLike(_SB3RMSpropTFLike):
    """SB3's ``RMSpropTFLike`` (epsilon inside the square root, squares start at one), same state.

    The plain update (no momentum, not centered, no weight decay: A3C's) runs as ``torch._foreach``
    operations over all parameters at once instead of a Python loop of five tensor operations
    per parameter; the numbers are the same (tested). Other settings use SB3's loop.
    """

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        if any(g["momentum"] > 0 or g["centered"] or g["weight_decay"] != 0 for g in self.param_groups):
            return super().step(closure)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, squares = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("RMSpropTF does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["square_avg"] = torch.ones_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                params.append(p)
                grads.append(p.grad)
                squares.append(state["square_avg"])
            if not params:
                continue
            alpha = group["alpha"]
            torch._foreach_mul_(squares, alpha)
            torch._foreach_addcmul_(squares, grads, grads, value=1 - alpha)
            denominators = torch._foreach_add(squares, group["eps"])
            torch._foreach_sqrt_(denominators)
            torch._foreach_addcdiv_(params, grads, denominators, value=-group["lr"])
        return loss
