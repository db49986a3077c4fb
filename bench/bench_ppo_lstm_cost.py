"""Why sb3-contrib's RecurrentPPO (``ppo_lstm``) costs several times SB3's PPO per MinAtar run, and
more on Asterix than on Breakout: where the time of one rollout's update goes.

Both models use the MinAtar plugin's settings (8 envs x 128 steps, 4 epochs of minibatches of 256,
the MinAtar network; ppo_lstm adds an LSTM of 128 cells) and one torch thread. Each collects
``--rollouts`` rollouts of the game with ``learn``; the time of ``collect_rollouts`` and of
``train`` is measured separately. For ppo_lstm the script also counts how often sb3-contrib's
``_process_sequence`` takes its per-time-step Python loop (taken when any sequence of a minibatch
holds an episode start; otherwise the LSTM runs over the whole sequence in one call), in the
update and while acting. Needs the MinAtar plugin (``pip install ./plugins/sb3-atari-minatar``).

    python bench/bench_ppo_lstm_cost.py --rollouts 6
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import torch as th
from sb3_atari_minatar.torch_layers import MinAtarCNN
from sb3_contrib import RecurrentPPO
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

from sb3_atari_ext.zoo import autoload

SETTINGS = dict(n_steps=128, n_epochs=4, batch_size=256, learning_rate=2.5e-4, clip_range=0.1, ent_coef=0.01, device="cpu")
GAMES = ("MinAtar/Asterix-v1", "MinAtar/Breakout-v1")
PATHS: Counter[str] = Counter()  # which branch of _process_sequence ran, in the update or while acting


def count_paths() -> None:
    """Wrap ``RecurrentActorCriticPolicy._process_sequence`` to count its two branches (the same
    test as sb3-contrib's: any episode start in the padded sequences)."""
    original = RecurrentActorCriticPolicy._process_sequence

    def counted(features, lstm_states, episode_starts, lstm):
        phase = "update" if th.is_grad_enabled() else "acting"
        PATHS[f"{phase} {'one call' if bool(th.all(episode_starts == 0.0)) else 'loop'}"] += 1
        return original(features, lstm_states, episode_starts, lstm)

    RecurrentActorCriticPolicy._process_sequence = staticmethod(counted)


class Timed:
    """Seconds spent in ``collect_rollouts`` and ``train`` of one model."""

    def __init__(self, model) -> None:
        self.seconds = Counter()
        for name in ("collect_rollouts", "train"):
            setattr(model, name, self._timed(name, getattr(model, name)))

    def _timed(self, name, method):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return run


def measure(algo: type, policy: str, game: str, rollouts: int, **network: object) -> Counter:
    env = make_vec_env(game, n_envs=8, seed=0)
    network = dict(features_extractor_class=MinAtarCNN, net_arch=[], **network)
    model = algo(policy, env, policy_kwargs=network, seed=0, **SETTINGS)
    timed = Timed(model)
    model.learn(rollouts * 8 * 128)
    env.close()
    return timed.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rollouts", type=int, default=6, help="rollouts of 8 x 128 steps per model and game")
    args = parser.parse_args()
    th.set_num_threads(1)
    autoload.apply()  # every installed plugin's env ids, MinAtar's included, as RL Zoo sees them
    count_paths()
    print("| game | model | s per rollout: acting | s per rollout: update | update ratio to PPO | updates with the loop |")
    print("|---|---|---|---|---|---|")
    for game in GAMES:
        ppo = measure(PPO, "MlpPolicy", game, args.rollouts)
        PATHS.clear()
        lstm = measure(RecurrentPPO, "MlpLstmPolicy", game, args.rollouts, lstm_hidden_size=128, enable_critic_lstm=False)
        looped = PATHS["update loop"] / max(PATHS["update loop"] + PATHS["update one call"], 1)
        for name, seconds, loops in (("PPO", ppo, "-"), ("RecurrentPPO", lstm, f"{looped:.0%}")):
            print(f"| {game} | {name} | {seconds['collect_rollouts'] / args.rollouts:.2f} | "
                  f"{seconds['train'] / args.rollouts:.2f} | {seconds['train'] / ppo['train']:.2f} | {loops} |")  # fmt: skip


if __name__ == "__main__":
    main()
