import numpy as np
import pytest
import torch as th
from gymnasium import spaces

from sb3_atari_ext import DDQNPrio
from sb3_atari_ext.torch_layers import LstmExtractor, NoisyLinear, NoisyNatureCNN, TransformerExtractor
from tests.torch_layers.test_extractors import image_space


class TinyImageEnv:
    """A real gymnasium env with 4x36x36 uint8 image stacks and 3 actions (fast)."""

    @staticmethod
    def make():
        import gymnasium as gym

        class Env(gym.Env):
            observation_space = spaces.Box(0, 255, shape=(4, 36, 36), dtype=np.uint8)
            action_space = spaces.Discrete(3)

            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                self.t = 0
                return self.observation_space.sample(), {}

            def step(self, action):
                self.t += 1
                return self.observation_space.sample(), float(action == 1), self.t >= 20, False, {}

        return Env()


@pytest.mark.parametrize(
    "policy, extractor",
    [("TransformerPolicy", TransformerExtractor), ("LstmPolicy", LstmExtractor), ("NoisyCnnPolicy", NoisyNatureCNN)],
)
def test_policy_alias_builds_its_extractor(policy, extractor):
    # training, saving and loading of every alias: the plugin test kit (tests/test_testing.py)
    model = DDQNPrio(policy, TinyImageEnv.make(), buffer_size=200, learning_starts=30, batch_size=8, device="cpu", seed=0)
    assert isinstance(model.q_net.features_extractor, extractor)
    assert isinstance(model.q_net_target.features_extractor, extractor)


def test_noisy_policy_resamples_noise_each_step_and_acts_deterministically_in_eval():
    model = DDQNPrio(
        "NoisyCnnPolicy",
        TinyImageEnv.make(),
        buffer_size=200,
        learning_starts=1000,
        device="cpu",
        exploration_initial_eps=0.0,
        exploration_final_eps=0.0,
        seed=0,
    )
    layers = [m for m in model.q_net.modules() if isinstance(m, NoisyLinear)]
    assert len(layers) == 2  # extractor's last layer + the Q head
    before = layers[-1].eps_out.clone()
    model.learn(5)
    assert not th.equal(before, layers[-1].eps_out)
    obs = model.observation_space.sample()[None]
    first = model.predict(obs, deterministic=True)[0]
    for layer in layers:
        layer.reset_noise()
    assert model.predict(obs, deterministic=True)[0] == first  # no noise in evaluation


def test_extractors_are_registered_short_names():
    from sb3_atari_ext.plugins import get_registry

    names = get_registry().names("feature_extractors")
    assert names["TransformerExtractor"] is TransformerExtractor and names["LstmExtractor"] is LstmExtractor
    assert image_space(4).shape == (4, 84, 84)
