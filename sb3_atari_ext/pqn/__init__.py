"""``pqn``: Parallelised Q-Network (Gallici et al. 2024): many envs, Q(lambda), LayerNorm, no replay."""

from sb3_atari_ext.pqn.policies import CnnPolicy, MlpPolicy, MultiInputPolicy, PQNPolicy, add_layer_norm
from sb3_atari_ext.pqn.pqn import PQN

__all__ = ["PQN", "CnnPolicy", "MlpPolicy", "MultiInputPolicy", "PQNPolicy", "add_layer_norm"]
