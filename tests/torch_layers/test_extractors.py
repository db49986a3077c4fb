import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import preprocess_obs

from sb3_atari_ext.torch_layers import LstmExtractor, NoisyLinear, NoisyNatureCNN, TransformerExtractor
from sb3_atari_ext.torch_layers.noisy import _FactorisedNoisyLinear, noisy_exploration, reset_noise


def image_space(n_stack, size=84, channels_per_frame=1):
    return spaces.Box(0, 255, shape=(n_stack * channels_per_frame, size, size), dtype=np.uint8)


def batch(space, n=3, seed=0):
    rng = np.random.default_rng(seed)
    obs = th.as_tensor(rng.integers(0, 256, size=(n, *space.shape), dtype=np.uint8))
    return preprocess_obs(obs, space)


EXTRACTORS = [
    (TransformerExtractor, {}),
    (TransformerExtractor, {"tokens": "spatial", "pooling": "flatten", "n_layers": 1}),
    (TransformerExtractor, {"pooling": "last"}),
    (LstmExtractor, {}),
    (LstmExtractor, {"n_layers": 2, "hidden_size": 64}),
    (NoisyNatureCNN, {}),
]


@pytest.mark.parametrize("n_stack", [2, 4, 6])
@pytest.mark.parametrize("cls, kwargs", EXTRACTORS)
def test_output_shape_for_several_stack_sizes(cls, kwargs, n_stack):
    space = image_space(n_stack)
    extractor = cls(space, features_dim=64, **kwargs)
    assert extractor(batch(space)).shape == (3, 64)


@pytest.mark.parametrize("cls, kwargs", EXTRACTORS)
def test_gradients_reach_every_parameter(cls, kwargs):
    space = image_space(4)
    extractor = cls(space, features_dim=32, **kwargs)
    extractor.train()
    extractor(batch(space)).pow(2).sum().backward()
    missing = [name for name, p in extractor.named_parameters() if p.grad is None or not th.any(p.grad != 0)]
    assert not missing


def test_rgb_frames_are_split_by_frame_channels():
    space = image_space(3, channels_per_frame=3)
    extractor = TransformerExtractor(space, features_dim=16, frame_channels=3)
    assert extractor.n_tokens == 3 and extractor(batch(space)).shape == (3, 16)


@pytest.mark.parametrize("cls", [TransformerExtractor, LstmExtractor])
def test_non_image_observations_get_a_clear_error(cls):
    with pytest.raises(ValueError, match="channel-first stacked image"):
        cls(spaces.Box(-1, 1, shape=(8,), dtype=np.float32))


def test_transformer_keeps_attention_weights_that_sum_to_one():
    space = image_space(4)
    extractor = TransformerExtractor(space, n_layers=3, n_heads=2)
    extractor(batch(space, n=5))
    attention = extractor.last_attention
    assert attention.shape == (5, 3, 4, 4)  # batch, layers, frames, frames
    th.testing.assert_close(attention.sum(dim=-1), th.ones(5, 3, 4))
    spatial = TransformerExtractor(space, tokens="spatial", n_layers=1)
    spatial(batch(space, n=2))
    assert spatial.last_attention.shape == (2, 1, 49, 49)  # 7x7 positions of the last conv map


def test_transformer_attends_across_frames():
    """Changing only the oldest frame changes the output of the newest token."""
    space = image_space(4)
    extractor = TransformerExtractor(space, pooling="last").eval()
    obs = batch(space, n=1)
    changed = obs.clone()
    changed[:, 0] = 1 - changed[:, 0]
    with th.no_grad():
        assert not th.allclose(extractor(obs), extractor(changed))


def test_noisy_linear_noise_changes_on_reset_and_is_off_in_eval():
    layer = NoisyLinear(5, 3)
    x = th.randn(4, 5)
    layer.train()
    first = layer(x)
    th.testing.assert_close(layer(x), first)  # same noise until reset
    layer.reset_noise()
    assert not th.allclose(layer(x), first)
    layer.eval()
    mean = th.nn.functional.linear(x, layer.weight_mu, layer.bias_mu)
    th.testing.assert_close(layer(x), mean)
    layer.reset_noise()
    th.testing.assert_close(layer(x), mean)
    with noisy_exploration(layer):
        assert not th.allclose(layer(x), mean)  # noise on while acting, even in eval mode
    th.testing.assert_close(layer(x), mean)


def test_noisy_linear_is_the_factorised_formula_and_its_backward_is_exact():
    th.manual_seed(0)
    layer = NoisyLinear(7, 3).double().train()
    with th.no_grad():
        layer.weight_sigma.uniform_(0.1, 1.0)
        layer.bias_sigma.uniform_(0.1, 1.0)
    x = th.randn(2, 5, 7, dtype=th.float64, requires_grad=True)  # leading batch dims are kept
    weight = layer.weight_mu + layer.weight_sigma * th.outer(layer.eps_out, layer.eps_in)
    expected = th.nn.functional.linear(x, weight, layer.bias_mu + layer.bias_sigma * layer.eps_out)
    out = layer(x)
    assert out.shape == (2, 5, 3)
    th.testing.assert_close(out, expected)
    grads = th.autograd.grad(out.square().sum(), [x, *layer.parameters()])
    expected_grads = th.autograd.grad(expected.square().sum(), [x, *layer.parameters()])
    for ours, reference in zip(grads, expected_grads, strict=True):
        th.testing.assert_close(ours, reference)
    flat = x.detach().reshape(-1, 7).requires_grad_()
    inputs = (flat, layer.weight_mu, layer.weight_sigma, layer.bias_mu, layer.bias_sigma, layer.eps_in, layer.eps_out)
    assert th.autograd.gradcheck(_FactorisedNoisyLinear.apply, inputs)


def test_noisy_linear_is_unbiased_around_its_mean():
    th.manual_seed(0)
    layer = NoisyLinear(8, 2, sigma_init=0.5)
    x = th.ones(1, 8)
    outputs = []
    for _ in range(4000):
        layer.reset_noise()
        outputs.append(layer(x))
    mean = th.nn.functional.linear(x, layer.weight_mu, layer.bias_mu)
    th.testing.assert_close(th.cat(outputs).mean(dim=0, keepdim=True), mean, atol=0.05, rtol=0)


def test_reset_noise_reaches_nested_layers():
    extractor = NoisyNatureCNN(image_space(4))
    before = extractor.linear[0].eps_in.clone()
    reset_noise(extractor)
    assert not th.equal(before, extractor.linear[0].eps_in)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(d_model=128, n_heads=3), "n_heads=3 must divide d_model=128"),
        (dict(pooling="max"), "pooling must be one of"),
        (dict(tokens="pixels"), "tokens must be 'frames' or 'spatial'"),
        (dict(frame_channels=3), "frame_channels=3 does not divide the 4 channels"),
    ],
)
def test_bad_transformer_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransformerExtractor(image_space(4), **kwargs)
