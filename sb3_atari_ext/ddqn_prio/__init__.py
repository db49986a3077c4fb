from sb3_atari_ext.ddqn_prio.ddqn_prio import DDQNPrio
from sb3_atari_ext.ddqn_prio.policies import (
    CnnPolicy,
    DDQNPrioPolicy,
    DuelingQNetwork,
    LstmPolicy,
    MlpPolicy,
    MultiInputPolicy,
    NoisyCnnPolicy,
    TransformerPolicy,
)

__all__ = [
    "CnnPolicy",
    "DDQNPrio",
    "DDQNPrioPolicy",
    "DuelingQNetwork",
    "LstmPolicy",
    "MlpPolicy",
    "MultiInputPolicy",
    "NoisyCnnPolicy",
    "TransformerPolicy",
]
