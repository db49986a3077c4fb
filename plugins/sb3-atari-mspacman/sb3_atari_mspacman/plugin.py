"""Hook implementations of the MsPacman plugin."""

from pathlib import Path

from sb3_atari_ext import hookimpl

HYPERPARAMS = Path(__file__).parent / "hyperparams"


@hookimpl
def register_reward_functions(register):
    from sb3_atari_mspacman import rewards

    for name in ("life_penalty", "death_tax", "ghost_bonus", "split"):
        register(f"mspacman.{name}", getattr(rewards, name))


@hookimpl
def register_hyperparams(register):
    for algo in ("split_q", "ddqn_prio", "ppo"):
        register(algo, HYPERPARAMS / f"{algo}.yml")
