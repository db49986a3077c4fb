import gymnasium as gym


class ScaleReward(gym.RewardWrapper):
    """Multiply every reward by ``scale``.

    :param env: the environment to wrap
    :param scale: the factor
    """

    def __init__(self, env: gym.Env, scale: float = 1.0) -> None:
        super().__init__(env)
        self.scale = scale

    def reward(self, reward: float) -> float:
        return reward * self.scale
