"""Images of what a trained agent's network sees: conv feature maps and attention weights.

The thesis project saved every conv layer's output as PNG images ("model_extractions"). Here
:func:`write_feature_maps` plays a few steps of an Atari game with a trained model and writes, for
each step, the input frames, the last conv layer's feature maps and, for Transformer models,
the attention weights over frames (or image regions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from torch import nn
from tqdm import tqdm


def last_conv(module: nn.Module) -> nn.Conv2d:
    """The last ``nn.Conv2d`` inside ``module`` (in registration order)."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(module).__name__} has no convolutional layer: there are no feature maps to draw")
    return convs[-1]


def features_extractor_of(model: Any) -> nn.Module:
    """The feature extractor of an SB3 model's (online) network."""
    policy = model.policy
    q_net = getattr(policy, "q_net", None)
    if q_net is not None and hasattr(q_net, "features_extractor"):
        return q_net.features_extractor
    return policy.features_extractor


def _grid(maps: np.ndarray) -> np.ndarray:
    """``(n, h, w)`` -> one image with the maps tiled in a near-square grid, each scaled to [0, 1]."""
    n, h, w = maps.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    lo = maps.reshape(n, -1).min(axis=1)[:, None, None]
    hi = maps.reshape(n, -1).max(axis=1)[:, None, None]
    scaled = (maps - lo) / np.where(hi > lo, hi - lo, 1.0)
    grid = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)  # NaN gaps are drawn blank
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = scaled[i]
    return grid


def _save(image: np.ndarray, path: Path, title: str, cmap: str = "viridis") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6 * image.shape[0] / max(image.shape[1], 1) + 0.6))
    shown = ax.imshow(image, cmap=cmap, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def write_feature_maps(model: Any, env: Any, out_dir: str | Path, steps: int = 4, progress: bool = True) -> list[Path]:
    """Play ``steps`` steps of ``env`` (a 1-env VecEnv) with ``model`` and write PNG images.

    Per step: ``step_NNN_input.png`` (the stacked frames), ``step_NNN_feature_maps.png`` (the
    last conv layer's maps) and, when the extractor keeps attention weights,
    ``step_NNN_attention.png`` (one panel per layer, tokens x tokens).

    :return: the written files
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    extractor = features_extractor_of(model)
    captured: dict[str, th.Tensor] = {}
    hook = last_conv(extractor).register_forward_hook(lambda _m, _i, output: captured.__setitem__("maps", output))
    written: list[Path] = []
    obs = env.reset()
    try:
        for step in tqdm(range(steps), desc="feature maps", disable=not progress):
            action, _ = model.predict(obs, deterministic=True)
            maps = captured["maps"].detach().float().cpu().numpy()
            maps = maps.reshape(-1, *maps.shape[-2:])  # per-frame stems give frames x channels maps
            frames = np.asarray(obs[0], dtype=np.float32)
            files = {
                "input": (_grid(frames), "input frames", "gray"),
                "feature_maps": (
                    _grid(maps),
                    f"last conv layer: {maps.shape[0]} maps of {maps.shape[1]}x{maps.shape[2]}",
                    "viridis",
                ),
            }
            attention = getattr(extractor, "last_attention", None)
            if attention is not None:
                layers = attention[0].cpu().numpy()  # [layers, tokens, tokens]
                files["attention"] = (_grid(layers), f"attention, {layers.shape[0]} layer(s), rows attend to columns", "magma")
            for name, (image, title, cmap) in files.items():
                path = out / f"step_{step:03d}_{name}.png"
                _save(image, path, f"step {step}: {title}", cmap)
                written.append(path)
            obs, _, _, _ = env.step(action)
    finally:
        hook.remove()
    return written
