"""The MinAtar network of Young & Tian 2019 as an SB3 feature extractor."""

from __future__ import annotations

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


class MinAtarCNN(BaseFeaturesExtractor):
    """Young & Tian 2019 (MinAtar, Sec. 4): one conv layer of 16 3x3 filters, stride 1, ReLU, then a
    fully connected layer of 128 ReLU units.

    Takes MinAtar's channel-last ``(10, 10, C)`` observations (boolean or numeric) and moves the
    channels first itself. Use it with ``net_arch=[]`` so that the Q (or policy) head sits directly
    on the 128 features, as in the paper.

    :param observation_space: a ``Box`` of shape ``(height, width, channels)``
    :param features_dim: width of the fully connected layer (128 in the paper)
    :param n_filters: number of conv filters (16 in the paper)
    """

    def __init__(self, observation_space: spaces.Space, features_dim: int = 128, n_filters: int = 16) -> None:
        shape = getattr(observation_space, "shape", None)
        if not isinstance(observation_space, spaces.Box) or shape is None or len(shape) != 3:
            raise ValueError(
                f"MinAtarCNN needs channel-last (height, width, channels) observations such as MinAtar's "
                f"(10, 10, C); got {type(observation_space).__name__} of shape {shape}"
            )
        super().__init__(observation_space, features_dim)
        height, width, channels = shape
        self.conv = nn.Sequential(nn.Conv2d(channels, n_filters, kernel_size=3, stride=1), nn.ReLU(), nn.Flatten())
        n_flatten = n_filters * (height - 2) * (width - 2)
        self.linear = nn.Sequential(nn.Linear(n_flatten, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.linear(self.conv(observations.float().permute(0, 3, 1, 2)))
