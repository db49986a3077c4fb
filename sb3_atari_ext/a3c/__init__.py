from sb3_atari_ext.a3c.a3c import A3C
from sb3_atari_ext.a3c.policies import (
    A3CCnnLstmPolicy,
    A3CLstmPolicy,
    A3CMultiInputLstmPolicy,
    CnnLstmPolicy,
    MlpLstmPolicy,
    MultiInputLstmPolicy,
)

__all__ = [
    "A3C",
    "A3CCnnLstmPolicy",
    "A3CLstmPolicy",
    "A3CMultiInputLstmPolicy",
    "CnnLstmPolicy",
    "MlpLstmPolicy",
    "MultiInputLstmPolicy",
]
