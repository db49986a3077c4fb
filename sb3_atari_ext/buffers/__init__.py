from sb3_atari_ext.buffers.frame_storage import FrameReplayBuffer, ReplayMemoryError, parse_bytes
from sb3_atari_ext.buffers.prioritized import PrioritizedReplayBuffer, PrioritizedReplayBufferSamples
from sb3_atari_ext.buffers.sum_tree import SumTree

__all__ = [
    "FrameReplayBuffer",
    "PrioritizedReplayBuffer",
    "PrioritizedReplayBufferSamples",
    "ReplayMemoryError",
    "SumTree",
    "parse_bytes",
]
