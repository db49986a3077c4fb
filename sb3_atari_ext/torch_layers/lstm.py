"""``LstmExtractor``: an LSTM over the frames of a stack (the thesis project's LSTM agent).

The DQN family is stateless between steps, so the recurrence runs over the k frames of each
observation: every frame goes through a shared conv stem and a linear projection, the LSTM
reads the frames oldest first, and its last output is the feature vector.
"""

from __future__ import annotations

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from sb3_atari_ext.torch_layers.cnn import FrameStem, check_stacked_images


class LstmExtractor(BaseFeaturesExtractor):
    """LSTM over the per-frame features of a stacked image observation.

    :param observation_space: channel-first image stack, e.g. ``Box(0, 255, (4, 84, 84), uint8)``
    :param features_dim: output width
    :param hidden_size: LSTM hidden size (the thesis uses 256)
    :param n_layers: stacked LSTM layers (the thesis uses 2)
    :param frame_channels: channels per frame (1 for grayscale stacks, 3 for RGB)
    """

    def __init__(
        self,
        observation_space: spaces.Box,
        features_dim: int = 512,
        hidden_size: int = 256,
        n_layers: int = 1,
        frame_channels: int = 1,
    ) -> None:
        super().__init__(observation_space, features_dim)
        _, height, width = check_stacked_images(observation_space, "LstmExtractor", frame_channels)
        self.stem = FrameStem(frame_channels, height, width)
        # Project each frame's conv features before the recurrence: the LSTM's input gates on the
        # raw 1,568 features would cost more than the whole conv stem.
        self.project = nn.Sequential(nn.Linear(self.stem.out_dim, hidden_size), nn.ReLU())
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers=n_layers, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        outputs, _ = self.lstm(self.project(self.stem(observations)))
        return self.head(outputs[:, -1])
