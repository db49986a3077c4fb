"""``rainbow``: Rainbow DQN (Hessel et al. 2018) on the ``ddqn_prio`` machinery plus a C51 head."""

from sb3_atari_ext.rainbow.policies import CategoricalQNetwork, CnnPolicy, MlpPolicy, MultiInputPolicy, RainbowPolicy
from sb3_atari_ext.rainbow.rainbow import Rainbow

__all__ = ["CategoricalQNetwork", "CnnPolicy", "MlpPolicy", "MultiInputPolicy", "Rainbow", "RainbowPolicy"]
