"""Our own components, registered through the same hooks a third-party plugin uses.

Listed in ``pyproject.toml`` as ``[project.entry-points.sb3_atari_ext] builtin = ...``; nothing
else in the package treats it specially. Heavy imports happen inside the hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sb3_atari_ext.hookspecs import hookimpl


def hyperparams_dir() -> Path:
    """Folder of our default RL Zoo yaml files (inside the wheel, or the checkout's ``hyperparams/``)."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "hyperparams", package.parent / "hyperparams"):
        if (candidate / "ddqn_prio.yml").is_file():
            return candidate
    raise FileNotFoundError(f"sb3_atari_ext: default hyperparameter files not found next to {package}")


@hookimpl
def register_algorithms(register: Callable[..., None]) -> None:
    from sb3_atari_ext.a3c import A3C
    from sb3_atari_ext.apex import ApexDDQN
    from sb3_atari_ext.ddqn_prio import DDQNPrio
    from sb3_atari_ext.pqn import PQN
    from sb3_atari_ext.rainbow import Rainbow
    from sb3_atari_ext.split_q import SplitQ

    register("ddqn_prio", DDQNPrio)
    register("rainbow", Rainbow)
    register("pqn", PQN)
    register("split_q", SplitQ)
    register("a3c", A3C)
    register("apex_ddqn", ApexDDQN)  # Ray is imported when a model is built (enjoy loads without it)


@hookimpl
def register_policies(register: Callable[..., None]) -> None:
    from sb3_atari_ext.ddqn_prio import policies

    # DDQNPrio also lists these in its class-level ``policy_aliases`` (as SB3 classes do), so
    # ``DDQNPrio("TransformerPolicy", env)`` works from Python without the plugin registry.
    for name in ("DDQNPrioPolicy", "NoisyCnnPolicy", "TransformerPolicy", "LstmPolicy"):
        register("ddqn_prio", name, getattr(policies, name))  # apex_ddqn inherits DDQNPrio's aliases


@hookimpl
def register_feature_extractors(register: Callable[..., None]) -> None:
    from sb3_atari_ext.torch_layers import LstmExtractor, NoisyNatureCNN, SmallCNN, TransformerExtractor

    register("NoisyNatureCNN", NoisyNatureCNN)
    register("SmallCNN", SmallCNN)
    register("TransformerExtractor", TransformerExtractor)
    register("LstmExtractor", LstmExtractor)


@hookimpl
def register_replay_buffers(register: Callable[..., None]) -> None:
    from sb3_atari_ext.buffers import FrameReplayBuffer, PrioritizedReplayBuffer
    from sb3_atari_ext.buffers.split_reward import SplitRewardReplayBuffer

    register("FrameReplayBuffer", FrameReplayBuffer)
    register("PrioritizedReplayBuffer", PrioritizedReplayBuffer)
    register("SplitRewardReplayBuffer", SplitRewardReplayBuffer)


@hookimpl
def register_wrappers(register: Callable[..., None]) -> None:
    from sb3_atari_ext import wrappers

    # check_kwargs: what sb3_atari_ext.testing.check_plugin passes to a wrapper with required arguments
    examples = {"ActionSubset": {"actions": ["NOOP", "FIRE"]}, "RewardFunction": {"reward_fn": "clip"}}
    for name in wrappers.__all__:
        register(name, getattr(wrappers, name), **({"check_kwargs": examples[name]} if name in examples else {}))


@hookimpl
def register_reward_functions(register: Callable[..., None]) -> None:
    from sb3_atari_ext.wrappers.rewards import clip

    register("clip", clip)


@hookimpl
def register_vec_envs(register: Callable[..., None]) -> None:
    from sb3_atari_ext.wrappers.ale_vector import make_ale_vector_env
    from sb3_atari_ext.wrappers.envpool import make_envpool_env

    register("envpool", make_envpool_env)
    register("ale_vector", make_ale_vector_env)


@hookimpl
def register_switch_conditions(register: Callable[..., None]) -> None:
    from sb3_atari_ext.switcher import lives_below, reward_at_least

    register("lives_below", lives_below)
    register("reward_at_least", reward_at_least)


@hookimpl
def register_hyperparams(register: Callable[..., None]) -> None:
    register("ddqn_prio", hyperparams_dir() / "ddqn_prio.yml")
    register("split_q", hyperparams_dir() / "split_q.yml")
    register("a3c", hyperparams_dir() / "a3c.yml")
    register("apex_ddqn", hyperparams_dir() / "apex_ddqn.yml")
    register("rainbow", hyperparams_dir() / "rainbow.yml")
    register("pqn", hyperparams_dir() / "pqn.yml")


@hookimpl
def register_samplers(register: Callable[..., None]) -> None:
    from sb3_atari_ext.a3c import search as a3c
    from sb3_atari_ext.apex import search as apex
    from sb3_atari_ext.ddqn_prio import search as ddqn_prio
    from sb3_atari_ext.pqn import search as pqn
    from sb3_atari_ext.rainbow import search as rainbow
    from sb3_atari_ext.split_q import search as split_q

    register("ddqn_prio", ddqn_prio.sample_ddqn_prio_params, converter=ddqn_prio.convert_ddqn_prio_params)
    register("split_q", split_q.sample_split_q_params, converter=split_q.convert_split_q_params)
    register("a3c", a3c.sample_a3c_params, converter=a3c.convert_a3c_params)
    register("apex_ddqn", apex.sample_apex_ddqn_params, converter=apex.convert_apex_ddqn_params)
    register("rainbow", rainbow.sample_rainbow_params, converter=rainbow.convert_rainbow_params)
    register("pqn", pqn.sample_pqn_params, converter=pqn.convert_pqn_params)
