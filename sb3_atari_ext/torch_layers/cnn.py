"""Convolutional pieces shared by our feature extractors."""

from __future__ import annotations

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


def check_stacked_images(observation_space: spaces.Space, extractor: str, frame_channels: int) -> tuple[int, int, int]:
    """Validate a channel-first image stack; return ``(n_frames, height, width)``.

    :raises ValueError: with the space's shape and what is expected
    """
    if not (
        isinstance(observation_space, spaces.Box)
        and is_image_space(observation_space, check_channels=False, normalized_image=True)
        and len(observation_space.shape) == 3
        and is_image_space_channels_first(observation_space)
    ):
        shape = getattr(observation_space, "shape", None)
        raise ValueError(
            f"{extractor} needs channel-first stacked image observations (e.g. 4x84x84 from RL Zoo's "
            f"AtariWrapper + frame_stack: 4); got {type(observation_space).__name__} of shape {shape}"
        )
    channels, height, width = observation_space.shape
    if frame_channels < 1 or channels % frame_channels:
        raise ValueError(f"{extractor}: frame_channels={frame_channels} does not divide the {channels} channels")
    return channels // frame_channels, height, width


class FrameStem(nn.Module):
    """A small conv stem applied to every frame of a stack with shared weights.

    Three layers shaped like the Nature CNN (8x8/4, 4x4/2, 3x3/1) with fewer channels, so that
    running it on each of the k frames costs about what one Nature CNN costs on the whole stack.

    :param frame_channels: channels of one frame (1 for grayscale)
    :param height: frame height
    :param width: frame width
    :param channels: output channels of the three conv layers
    """

    def __init__(self, frame_channels: int, height: int, width: int, channels: tuple[int, int, int] = (16, 32, 32)) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.frame_channels = frame_channels
        self.cnn = nn.Sequential(
            nn.Conv2d(frame_channels, c1, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(c1, c2, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(c2, c3, kernel_size=3, stride=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with th.no_grad():
            self.out_dim = int(self.cnn(th.zeros(1, frame_channels, height, width)).shape[1])

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """``(batch, k * frame_channels, H, W)`` -> per-frame features ``(batch, k, out_dim)``."""
        batch, channels, height, width = observations.shape
        frames = observations.reshape(batch * channels // self.frame_channels, self.frame_channels, height, width)
        return self.cnn(frames).reshape(batch, channels // self.frame_channels, self.out_dim)


class SmallCNN(BaseFeaturesExtractor):
    """The two-layer Atari CNN of Mnih et al. 2013 / the A3C-LSTM project's A3C-LSTM: 16 8x8/4, 32 4x4/2.

    As an SB3 feature extractor (``features_extractor_class: SmallCNN``) it returns the flattened
    conv output (2,592 values for 84x84), which the A3C-LSTM project feeds straight into a 512-unit LSTM
    (``lstm_hidden_size: 512``); ``features_dim`` adds a linear layer + ReLU of that size instead.

    :param observation_space: channel-first image stack
    :param features_dim: size of an optional linear layer (``0``: none, the seed's network)
    :param normalized_image: observations are already in [0, 1]
    """

    def __init__(self, observation_space: spaces.Box, features_dim: int = 0, normalized_image: bool = False) -> None:
        channels, height, width = check_stacked_images(observation_space, "SmallCNN", 1)
        cnn = nn.Sequential(
            nn.Conv2d(channels, 16, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Flatten(),
        )
        with th.no_grad():
            n_flat = int(cnn(th.zeros(1, channels, height, width)).shape[1])
        super().__init__(observation_space, features_dim or n_flat)
        self.cnn = cnn
        self.linear = nn.Sequential(nn.Linear(n_flat, features_dim), nn.ReLU()) if features_dim else nn.Identity()

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.linear(self.cnn(observations))
