"""``rainbow``: Rainbow DQN (Hessel et al. 2018) on the ``ddqn_prio`` machinery plus a distributional head
(C51 by default, QR-DQN's quantiles as an option)."""

from sb3_atari_ext.rainbow.policies import (
    CategoricalQNetwork,
    CnnPolicy,
    DistributionalQNetwork,
    MlpPolicy,
    MultiInputPolicy,
    QuantileQNetwork,
    RainbowPolicy,
)
from sb3_atari_ext.rainbow.rainbow import Rainbow

__all__ = [
    "CategoricalQNetwork",
    "CnnPolicy",
    "DistributionalQNetwork",
    "MlpPolicy",
    "MultiInputPolicy",
    "QuantileQNetwork",
    "Rainbow",
    "RainbowPolicy",
]
