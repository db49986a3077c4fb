from sb3_atari_ext.buffers.prioritized import PrioritizedReplayBuffer, PrioritizedReplayBufferSamples
from sb3_atari_ext.buffers.sum_tree import SumTree

__all__ = ["PrioritizedReplayBuffer", "PrioritizedReplayBufferSamples", "SumTree"]
