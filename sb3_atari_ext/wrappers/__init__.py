from sb3_atari_ext.wrappers.atari import ActionSubset, SkipFrame
from sb3_atari_ext.wrappers.rewards import SplitReward

__all__ = ["ActionSubset", "SkipFrame", "SplitReward"]
