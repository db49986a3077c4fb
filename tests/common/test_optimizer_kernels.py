"""Every algorithm's optimizer runs its multi-tensor kernel unless the user chose, with the same numbers."""

from __future__ import annotations

import copy

import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env

from sb3_atari_ext import A3C, PQN
from sb3_atari_ext.common.torch_utils import fast_optimizer_kwargs


def test_pqn_runs_radam_with_foreach_and_keeps_it_through_save_and_load(tmp_path):
    model = PQN("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2), n_steps=4, n_minibatches=2)
    assert isinstance(model.policy.optimizer, th.optim.RAdam)
    assert model.policy.optimizer.param_groups[0]["foreach"] is True
    model.save(tmp_path / "pqn.zip")
    loaded = PQN.load(tmp_path / "pqn.zip")
    assert loaded.policy.optimizer.param_groups[0]["foreach"] is True


@pytest.mark.parametrize("optimizer, key, cls", [("rmsprop", "foreach", th.optim.RMSprop), ("adam", "fused", th.optim.Adam)])
def test_a3c_optimizers_run_their_kernels(optimizer, key, cls):
    model = A3C("MlpLstmPolicy", make_vec_env("CartPole-v1", n_envs=2), optimizer=optimizer, n_steps=4)
    assert isinstance(model.policy.optimizer, cls) and model.policy.optimizer.param_groups[0][key] is True


def test_a_users_choice_is_kept_and_optimizers_without_the_option_get_nothing():
    from sb3_atari_ext.common.optim import RMSpropTFLike

    assert fast_optimizer_kwargs(th.optim.RAdam, {"foreach": False, "eps": 1e-3}) == {"foreach": False, "eps": 1e-3}
    assert fast_optimizer_kwargs(th.optim.Adam, {"foreach": True}) == {"foreach": True}
    assert fast_optimizer_kwargs(th.optim.AdamW, None) == {"fused": True}
    assert fast_optimizer_kwargs(RMSpropTFLike, {"alpha": 0.99}) == {"alpha": 0.99}


@pytest.mark.parametrize("optimizer_class", [th.optim.RAdam, th.optim.RMSprop])
def test_the_foreach_kernel_computes_what_the_loop_computes(optimizer_class):
    th.manual_seed(0)
    net = th.nn.Sequential(th.nn.Linear(8, 16), th.nn.LayerNorm(16), th.nn.Linear(16, 3))
    nets = [copy.deepcopy(net), copy.deepcopy(net)]
    optimizers = [optimizer_class(nets[0].parameters(), lr=1e-2, foreach=False)]
    optimizers.append(optimizer_class(nets[1].parameters(), lr=1e-2, **fast_optimizer_kwargs(optimizer_class, None)))
    for _ in range(20):
        x = th.randn(32, 8)
        for model, opt in zip(nets, optimizers, strict=True):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert th.allclose(a, b, atol=1e-5)
    assert any((a != p).any() for a, p in zip(nets[0].parameters(), net.parameters(), strict=True))
