"""Convolutional pieces shared by our feature extractors."""

from __future__ import annotations

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
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
