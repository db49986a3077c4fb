"""``TransformerExtractor``: self-attention over the frames (or image regions) of a stack.

A master's thesis project compares Transformer and LSTM Double-DQN agents on Space Invaders.
Two tokenizations are offered:

- ``tokens="frames"`` (default): every stacked frame goes through a shared conv stem and becomes
  one token, with a learned positional embedding for its place in the stack; attention is over
  time.
- ``tokens="spatial"`` (the thesis' choice): a Nature-CNN trunk runs on the whole stack and each
  spatial position of its last feature map becomes a token; attention is over image regions.

The attention weights of the last forward pass are kept in ``last_attention`` (batch, layers,
tokens, tokens; averaged over heads) for inspection (``sb3-atari feature-maps``).
"""

from __future__ import annotations

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from sb3_atari_ext.torch_layers.cnn import FrameStem, check_stacked_images

POOLINGS = ("mean", "last", "flatten")


class EncoderLayer(nn.Module):
    """Pre-norm Transformer encoder layer that can return its attention weights."""

    def __init__(self, d_model: int, n_heads: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attention = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(d_model)
        self.feedforward = nn.Sequential(
            nn.Linear(d_model, dim_feedforward), nn.GELU(), nn.Dropout(dropout), nn.Linear(dim_feedforward, d_model)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: th.Tensor, need_weights: bool) -> tuple[th.Tensor, th.Tensor | None]:
        h = self.norm1(x)
        attended, weights = self.attention(h, h, h, need_weights=need_weights, average_attn_weights=True)
        x = x + self.dropout(attended)
        x = x + self.dropout(self.feedforward(self.norm2(x)))
        return x, weights


class TransformerExtractor(BaseFeaturesExtractor):
    """Transformer encoder over the frames (or spatial regions) of a stacked image observation.

    :param observation_space: channel-first image stack, e.g. ``Box(0, 255, (4, 84, 84), uint8)``
    :param features_dim: output width
    :param d_model: token width
    :param n_heads: attention heads (must divide ``d_model``)
    :param n_layers: encoder layers
    :param dim_feedforward: width of each layer's feed-forward block
    :param dropout: dropout in attention and feed-forward blocks
    :param pooling: ``"mean"`` over tokens, ``"last"`` token (newest frame), or ``"flatten"`` all tokens
    :param tokens: ``"frames"`` (one token per frame) or ``"spatial"`` (one per conv-map position)
    :param frame_channels: channels per frame (1 for grayscale stacks, 3 for RGB)
    :param store_attention: keep the attention weights of the last forward pass in ``last_attention``
    """

    def __init__(
        self,
        observation_space: spaces.Box,
        features_dim: int = 512,
        d_model: int = 128,
        n_heads: int = 4,
        n_layers: int = 2,
        dim_feedforward: int = 256,
        dropout: float = 0.0,
        pooling: str = "mean",
        tokens: str = "frames",
        frame_channels: int = 1,
        store_attention: bool = True,
    ) -> None:
        super().__init__(observation_space, features_dim)
        n_frames, height, width = check_stacked_images(observation_space, "TransformerExtractor", frame_channels)
        if pooling not in POOLINGS:
            raise ValueError(f"TransformerExtractor: pooling must be one of {POOLINGS}, got {pooling!r}")
        if tokens not in ("frames", "spatial"):
            raise ValueError(f"TransformerExtractor: tokens must be 'frames' or 'spatial', got {tokens!r}")
        if d_model % n_heads:
            raise ValueError(f"TransformerExtractor: n_heads={n_heads} must divide d_model={d_model}")
        self.tokens, self.pooling, self.store_attention = tokens, pooling, store_attention
        if tokens == "frames":
            self.stem: nn.Module = FrameStem(frame_channels, height, width)
            n_tokens, token_dim = n_frames, self.stem.out_dim
        else:
            channels = observation_space.shape[0]
            self.stem = nn.Sequential(
                nn.Conv2d(channels, 32, kernel_size=8, stride=4),
                nn.ReLU(),
                nn.Conv2d(32, 64, kernel_size=4, stride=2),
                nn.ReLU(),
                nn.Conv2d(64, 64, kernel_size=3, stride=1),
                nn.ReLU(),
            )
            with th.no_grad():
                _, token_dim, map_h, map_w = self.stem(th.zeros(1, *observation_space.shape)).shape
            n_tokens = map_h * map_w
        self.n_tokens = n_tokens
        self.embed = nn.Linear(token_dim, d_model)
        self.position = nn.Parameter(th.zeros(1, n_tokens, d_model))
        nn.init.normal_(self.position, std=0.02)
        self.layers = nn.ModuleList(EncoderLayer(d_model, n_heads, dim_feedforward, dropout) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        pooled = d_model * n_tokens if pooling == "flatten" else d_model
        self.head = nn.Sequential(nn.Linear(pooled, features_dim), nn.ReLU())
        self.last_attention: th.Tensor | None = None

    def _tokens(self, observations: th.Tensor) -> th.Tensor:
        if self.tokens == "frames":
            return self.stem(observations)  # [batch, frames, stem_dim]
        maps = self.stem(observations)  # [batch, channels, h, w]
        return maps.flatten(2).transpose(1, 2)  # [batch, h*w, channels]

    def forward(self, observations: th.Tensor) -> th.Tensor:
        x = self.embed(self._tokens(observations)) + self.position
        attention = []
        for layer in self.layers:
            x, weights = layer(x, need_weights=self.store_attention)
            if weights is not None:
                attention.append(weights.detach())
        if attention:
            self.last_attention = th.stack(attention, dim=1)
        x = self.norm(x)
        if self.pooling == "mean":
            pooled = x.mean(dim=1)
        elif self.pooling == "last":
            pooled = x[:, -1]
        else:
            pooled = x.flatten(1)
        return self.head(pooled)
