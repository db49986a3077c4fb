"""``apex_ddqn``: Ape-X-style distributed prioritized Double DQN on Ray (needs ``sb3-atari-ext[ray]``)."""

from sb3_atari_ext.apex.actor import ApexActor, actor_epsilon
from sb3_atari_ext.apex.apex_ddqn import ActorLostError, ApexDDQN, require_ray
from sb3_atari_ext.apex.envs import EnvFactory
from sb3_atari_ext.apex.status import format_status, read_status

__all__ = [
    "ActorLostError",
    "ApexActor",
    "ApexDDQN",
    "EnvFactory",
    "actor_epsilon",
    "format_status",
    "read_status",
    "require_ray",
]
