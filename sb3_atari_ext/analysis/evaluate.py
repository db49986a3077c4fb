"""Evaluate a trained agent against a uniform-random agent on the same seeds (``sb3-atari evaluate``).

Episode ``i`` of both agents is played in a fresh env created with seed ``seed + i``, so they
face the same starts (no-op counts, sticky-action draws). A fresh env per episode, because
re-seeding a used env does not reproduce its starts: SB3's Atari wrappers keep state across
resets (measured: the same ``reset(seed)`` after a finished game gives another no-op count).
An episode is a whole game: with RL Zoo's
``AtariWrapper`` (a done at each life loss) the Monitor's episode record marks the real end.

The **human-normalized score** is ``100 * (agent - random) / (human - random)`` with the
published per-game random and human scores of the Atari-57 benchmark (``ATARI_SCORES``): random
and professional human tester scores, episodes capped at 108,000 frames, as tabulated by Badia
et al. 2020 ("Agent57: Outperforming the Atari Human Benchmark", arXiv:2003.13350), the same
values as Mnih et al. 2015 (Nature, DQN) for the 49 games there and Wang et al. 2016 for the rest.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rl_zoo3.utils import create_test_env, get_latest_run_id, get_saved_hyperparams
from tqdm.auto import tqdm

from sb3_atari_ext.analysis.runs import load_model
from sb3_atari_ext.common.validation import first_line
from sb3_atari_ext.zoo import autoload

# game (ALE name) -> (random score, human score); see the module docstring for the source
ATARI_SCORES: dict[str, tuple[float, float]] = {
    "Alien": (227.8, 7127.7),
    "Amidar": (5.8, 1719.5),
    "Assault": (222.4, 742.0),
    "Asterix": (210.0, 8503.3),
    "Asteroids": (719.1, 47388.7),
    "Atlantis": (12850.0, 29028.1),
    "BankHeist": (14.2, 753.1),
    "BattleZone": (2360.0, 37187.5),
    "BeamRider": (363.9, 16926.5),
    "Berzerk": (123.7, 2630.4),
    "Bowling": (23.1, 160.7),
    "Boxing": (0.1, 12.1),
    "Breakout": (1.7, 30.5),
    "Centipede": (2090.9, 12017.0),
    "ChopperCommand": (811.0, 7387.8),
    "CrazyClimber": (10780.5, 35829.4),
    "Defender": (2874.5, 18688.9),
    "DemonAttack": (152.1, 1971.0),
    "DoubleDunk": (-18.6, -16.4),
    "Enduro": (0.0, 860.5),
    "FishingDerby": (-91.7, -38.7),
    "Freeway": (0.0, 29.6),
    "Frostbite": (65.2, 4334.7),
    "Gopher": (257.6, 2412.5),
    "Gravitar": (173.0, 3351.4),
    "Hero": (1027.0, 30826.4),
    "IceHockey": (-11.2, 0.9),
    "Jamesbond": (29.0, 302.8),
    "Kangaroo": (52.0, 3035.0),
    "Krull": (1598.0, 2665.5),
    "KungFuMaster": (258.5, 22736.3),
    "MontezumaRevenge": (0.0, 4753.3),
    "MsPacman": (307.3, 6951.6),
    "NameThisGame": (2292.3, 8049.0),
    "Phoenix": (761.4, 7242.6),
    "Pitfall": (-229.4, 6463.7),
    "Pong": (-20.7, 14.6),
    "PrivateEye": (24.9, 69571.3),
    "Qbert": (163.9, 13455.0),
    "Riverraid": (1338.5, 17118.0),
    "RoadRunner": (11.5, 7845.0),
    "Robotank": (2.2, 11.9),
    "Seaquest": (68.4, 42054.7),
    "Skiing": (-17098.1, -4336.9),
    "Solaris": (1236.3, 12326.7),
    "SpaceInvaders": (148.0, 1668.7),
    "StarGunner": (664.0, 10250.0),
    "Surround": (-10.0, 6.5),
    "Tennis": (-23.8, -8.3),
    "TimePilot": (3568.0, 5229.2),
    "Tutankham": (11.4, 167.6),
    "UpNDown": (533.4, 11693.2),
    "Venture": (0.0, 1187.5),
    "VideoPinball": (16256.9, 17667.9),
    "WizardOfWor": (563.5, 4756.5),
    "YarsRevenge": (3092.9, 54576.9),
    "Zaxxon": (32.5, 9173.3),
}
_GAME = re.compile(r"(?:ALE/)?([A-Za-z]+?)(?:NoFrameskip)?-v\d+")


def atari_game(env_id: str) -> str | None:
    """The Atari-57 game of an env id (``SpaceInvadersNoFrameskip-v4`` -> ``SpaceInvaders``), or None."""
    match = _GAME.fullmatch(env_id)
    if match is None:
        return None
    name = match.group(1)
    return next((game for game in ATARI_SCORES if game.lower() == name.lower()), None)


def human_normalized(env_id: str, score: float) -> float | None:
    """``100 * (score - random) / (human - random)`` with the published scores, or None for other envs."""
    game = atari_game(env_id)
    if game is None:
        return None
    random_score, human_score = ATARI_SCORES[game]
    return 100.0 * (score - random_score) / (human_score - random_score)


@dataclass
class EpisodeStats:
    """Summary of a set of episodes."""

    episodes: int
    mean: float
    std: float
    min: float
    max: float
    mean_length: float
    human_normalized: float | None
    returns: list[float]
    lengths: list[int]

    @classmethod
    def of(cls, env_id: str, returns: list[float], lengths: list[int]) -> EpisodeStats:
        r = np.asarray(returns, dtype=np.float64)
        return cls(
            episodes=len(r),
            mean=float(r.mean()),
            std=float(r.std()),
            min=float(r.min()),
            max=float(r.max()),
            mean_length=float(np.mean(lengths)),
            human_normalized=human_normalized(env_id, float(r.mean())),
            returns=[float(x) for x in r],
            lengths=[int(x) for x in lengths],
        )


def play(make_env: Any, episodes: int, seed: int, act: Any, progress: Any = None) -> tuple[list[float], list[int]]:
    """Play ``episodes`` whole games, episode ``i`` in ``make_env(seed + i)``.

    :param make_env: ``make_env(seed)`` -> a 1-env ``VecEnv`` whose info carries Monitor's
        ``episode`` record at the end of a game
    :param act: ``act(obs, state, episode_start, i, env) -> (actions, state)``
    :return: the Monitor returns and lengths
    """
    returns, lengths = [], []
    for i in range(episodes):
        env = make_env(seed + i)
        try:
            obs = env.reset()
            state, start = None, np.ones(env.num_envs, dtype=bool)
            while True:
                actions, state = act(obs, state, start, i, env)
                obs, _, dones, infos = env.step(actions)
                start = dones
                episode = infos[0].get("episode")
                if episode is not None:
                    returns.append(float(episode["r"]))
                    lengths.append(int(episode["l"]))
                    break
        finally:
            env.close()
        if progress is not None:
            progress()
    return returns, lengths


def saved_hyperparams(saved: Path) -> tuple[dict[str, Any], str | None]:
    """RL Zoo's saved hyperparameters of a run (``<run>/<env>/config.yml``) and its VecNormalize
    statistics path; an unreadable ``config.yml`` is a ``ValueError`` naming the file."""

    try:
        return get_saved_hyperparams(str(saved), norm_reward=False, test_mode=True)
    except (AttributeError, TypeError, ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"cannot read {saved / 'config.yml'} ({first_line(exc)}): RL Zoo writes it as a mapping of the "
            "run's hyperparameters; restore it or train the run again"
        ) from None


def evaluate(
    algo: str,
    env_id: str,
    folder: str,
    episodes: int = 10,
    seed: int = 0,
    deterministic: bool = False,
    exp_id: int = 0,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Trained agent vs uniform-random agent, same seeds; returns a JSON-able dict."""

    run = _run_folder(folder, algo, env_id, exp_id, get_latest_run_id)
    model_path = run / f"{env_id}.zip"
    if not model_path.is_file():
        raise FileNotFoundError(f"no trained model {model_path}")
    hyperparams, stats_path = saved_hyperparams(run / env_id.replace("/", "-"))

    def make_env(episode_seed: int) -> Any:
        return _make_env(env_id, hyperparams, stats_path, episode_seed)

    model = load_model(algo, model_path)

    def agent(obs, state, start, i, env):
        return model.predict(obs, state=state, episode_start=start, deterministic=deterministic)

    rngs: dict[int, np.random.Generator] = {}

    def uniform(obs, state, start, i, env):
        space = env.action_space
        space.seed(int(rngs.setdefault(i, np.random.default_rng(seed + i)).integers(2**31)))
        return np.array([space.sample() for _ in range(env.num_envs)]), None

    bar = _progress(2 * episodes, f"evaluate {algo} on {env_id}") if show_progress else None
    try:
        agent_returns, agent_lengths = play(make_env, episodes, seed, agent, bar.advance if bar else None)
        random_returns, random_lengths = play(make_env, episodes, seed, uniform, bar.advance if bar else None)
    finally:
        if bar:
            bar.close()
    return {
        "algo": algo,
        "env": env_id,
        "model": str(model_path),
        "seed": seed,
        "seeds": [seed + i for i in range(episodes)],
        "deterministic": deterministic,
        "agent": asdict(EpisodeStats.of(env_id, agent_returns, agent_lengths)),
        "random": asdict(EpisodeStats.of(env_id, random_returns, random_lengths)),
        "published": dict(zip(("random", "human"), ATARI_SCORES[atari_game(env_id)], strict=True))
        if atari_game(env_id)
        else None,
    }


def _run_folder(folder: str, algo: str, env_id: str, exp_id: int, latest: Any) -> Path:
    log_path = Path(folder) / algo
    env_name = env_id.replace("/", "-")
    if exp_id == 0:
        exp_id = latest(str(log_path), env_name)
        if exp_id == 0:
            raise FileNotFoundError(f"no run of {algo} on {env_id} in {log_path}")
    return log_path / f"{env_name}_{exp_id}"


def _make_env(env_id: str, hyperparams: dict[str, Any], stats_path: str | None, seed: int, **env_kwargs: Any) -> Any:
    """RL Zoo's test env (saved wrappers, normalization and frame stack) with a Monitor on the raw game."""

    autoload.apply()  # plugin wrappers and env ids, as under rl_zoo3.enjoy

    # RL Zoo prints "Stacking 4 frames" for every env it builds: one per game would cut the
    # progress bar into pieces
    with contextlib.redirect_stdout(io.StringIO()):
        return create_test_env(
            env_id,
            n_envs=1,
            stats_path=stats_path,
            seed=seed,
            log_dir=None,
            should_render=False,
            hyperparams=dict(hyperparams),
            env_kwargs=env_kwargs or None,
        )


class _Bar:
    def __init__(self, total: int, description: str) -> None:
        self._bar = tqdm(total=total, desc=description, unit="episode")

    def advance(self) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def _progress(total: int, description: str) -> _Bar:
    return _Bar(total, description)


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of the agent and random rows."""
    # RL Zoo's Monitor sits under AtariWrapper: on Atari an episode's length counts emulator frames
    unit = "frames" if "NoFrameskip" in str(result["env"]) else "steps"
    length = f"len ({unit})"
    header = f"{'':8} {'episodes':>8} {'mean':>10} {'std':>10} {'min':>10} {'max':>10} {length:>13} {'human-norm %':>13}"
    lines = [f"{result['algo']} on {result['env']} (seeds {result['seeds'][0]}..{result['seeds'][-1]})", header]
    for name in ("agent", "random"):
        s = result[name]
        hn = "n/a" if s["human_normalized"] is None or math.isnan(s["human_normalized"]) else f"{s['human_normalized']:.1f}"
        lines.append(
            f"{name:8} {s['episodes']:>8} {s['mean']:>10.2f} {s['std']:>10.2f} {s['min']:>10.2f} {s['max']:>10.2f}"
            f" {s['mean_length']:>13.1f} {hn:>13}"
        )
    if result["published"]:
        lines.append(f"published scores: random {result['published']['random']}, human {result['published']['human']}")
    return "\n".join(lines)
