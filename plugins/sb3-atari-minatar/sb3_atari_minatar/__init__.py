"""MinAtar (Young & Tian 2019) for sb3-atari-ext: env ids, ``MinAtarCNN`` and default RL Zoo settings."""

from sb3_atari_minatar.envs import GAMES, env_ids

__all__ = ["GAMES", "env_ids"]
