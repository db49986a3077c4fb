from sb3_atari_ext.split_q.policies import CnnPolicy, MlpPolicy, SplitQNetwork, SplitQPolicy
from sb3_atari_ext.split_q.split_q import SplitQ

__all__ = ["CnnPolicy", "MlpPolicy", "SplitQ", "SplitQNetwork", "SplitQPolicy"]
