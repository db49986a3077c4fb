from sb3_atari_ext.wrappers.atari import ActionSubset, SkipFrame
from sb3_atari_ext.wrappers.joystick import Joystick
from sb3_atari_ext.wrappers.rewards import DeathPenalty, RewardFunction, RewardMultiplier, SplitReward

__all__ = ["ActionSubset", "DeathPenalty", "Joystick", "RewardFunction", "RewardMultiplier", "SkipFrame", "SplitReward"]
