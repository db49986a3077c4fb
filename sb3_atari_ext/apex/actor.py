"""The Ape-X actor: plays with its own epsilon, computes initial priorities, sends blocks.

:class:`ApexActor` is a plain class; the learner turns it into a Ray actor with
``ray.remote(max_restarts=...)`` (see :mod:`sb3_atari_ext.apex.runtime`). Each ``collect`` call
plays ``block_size`` steps in each of its envs with the newest weights the learner published and
returns a :class:`~sb3_atari_ext.apex.blocks.Block`.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import numpy as np
import torch as th

from sb3_atari_ext.apex.blocks import Block, FrameCodec, StreamRecorder, n_step_targets
from sb3_atari_ext.apex.envs import EnvFactory, space_signature
from sb3_atari_ext.torch_layers.noisy import noisy_exploration, noisy_layers, reset_noise


def actor_epsilon(index: int, n_actors: int, base: float = 0.4, alpha: float = 7.0) -> float:
    """Ape-X's per-actor exploration: ``base ** (1 + alpha * i / (N - 1))`` (Horgan et al. 2018, Sec. 4.1).

    With 8 actors: 0.4, 0.21, 0.11, 0.06, 0.03, 0.02, 0.008, 0.004. A single actor gets ``base``.
    """
    if n_actors <= 1:
        return float(base)
    return float(base ** (1 + alpha * index / (n_actors - 1)))


class ApexActor:
    """One actor process: ``n_envs`` envs built by ``env_factory`` and a copy of the Q-networks.

    :param index: the actor's number (0 .. N-1), which fixes its epsilon and seed
    :param env_factory: how to build the envs (the training env's pipeline)
    :param n_envs: envs in this actor
    :param seed: base seed (the actor's envs get ``seed + 1000 * index``)
    :param policy_class: the learner's policy class
    :param policy_kwargs: its keyword arguments
    :param spaces: the learner's :func:`~sb3_atari_ext.apex.envs.space_signature` (the envs' must match)
    :param epsilon: probability of a random action
    :param n_steps: n-step return length for the priorities
    :param gamma: discount
    :param block_size: env steps per env in one block
    :param frame_channels: channels per frame of an image stack (as the replay buffer splits it)
    :param nice: raise the process's niceness by this much (0: leave it)
    """

    def __init__(
        self,
        index: int,
        env_factory: EnvFactory,
        n_envs: int,
        seed: int | None,
        policy_class: type,
        policy_kwargs: dict[str, Any],
        spaces: tuple[Any, ...],
        epsilon: float,
        n_steps: int,
        gamma: float,
        block_size: int,
        frame_channels: int = 1,
        nice: int = 0,
    ) -> None:
        th.set_num_threads(1)
        if nice > 0:  # actors yield the CPU to a learner on the same machine
            os.nice(nice)
        self.index = index
        self.epsilon = float(epsilon)
        self.n_steps = int(n_steps)
        self.gamma = float(gamma)
        self.block_size = int(block_size)
        actor_seed = None if seed is None else int(seed) + 1000 * index
        self.env = env_factory.make(n_envs, seed=actor_seed)
        observation_space, action_space = self.env.observation_space, self.env.action_space
        if space_signature(observation_space, action_space) != tuple(spaces):
            raise ValueError(
                f"actor {index}: its envs have observation space {observation_space} and action space "
                f"{action_space}, which do not match the learner's {spaces}"
            )
        self.rng = np.random.default_rng(actor_seed)
        self.action_space = action_space
        self.policy = policy_class(observation_space, action_space, lambda _: 0.0, **policy_kwargs)
        self.policy.set_training_mode(False)
        # a noisy network explores by its noise, resampled every step (as ddqn_prio acts)
        self.noisy = noisy_layers(self.policy.q_net)
        self.codec = FrameCodec(observation_space, action_space, frame_channels)
        self.recorders = [StreamRecorder(self.codec) for _ in range(self.env.num_envs)]
        self.version = -1
        self.obs = self.env.reset()
        self.env_steps = 0
        self.episodes = 0
        self.last_score: float | None = None
        self.started = time.time()
        self.restarted = False

    # -- acting ---------------------------------------------------------------------------------
    def _load(self, weights: dict[str, np.ndarray], version: int) -> None:
        if version != self.version:
            self.policy.load_state_dict({k: th.tensor(v) for k, v in weights.items()})
            self.version = version

    def _act(self, obs: np.ndarray) -> np.ndarray:
        if self.noisy:
            reset_noise(self.noisy)
        with th.no_grad(), noisy_exploration(self.noisy):
            obs_tensor, _ = self.policy.obs_to_tensor(obs)
            actions = self.policy.q_net(obs_tensor).argmax(dim=1).numpy()
        explore = self.rng.random(len(actions)) < self.epsilon
        if explore.any():
            actions[explore] = self.rng.integers(0, self.action_space.n, size=int(explore.sum()))
        return actions

    def collect(self, weights: dict[str, np.ndarray], version: int) -> Block:
        """Play ``block_size`` steps in every env with the given weights; return the block."""
        self._load(weights, version)
        start, episodes = time.time(), []
        for _ in range(self.block_size):
            actions = self._act(self.obs)
            next_obs, rewards, dones, infos = self.env.step(actions)
            for j, recorder in enumerate(self.recorders):
                real_next = infos[j]["terminal_observation"] if dones[j] else next_obs[j]
                truncated = bool(infos[j].get("TimeLimit.truncated", False))
                recorder.add(self.obs[j], actions[j], float(rewards[j]), real_next, bool(dones[j]), truncated)
                episode = infos[j].get("episode")
                if episode is not None:
                    episodes.append({"r": float(episode["r"]), "l": int(episode["l"]), "env": j})
                    self.last_score = float(episode["r"])
            self.obs = next_obs
        streams = [recorder.finish() for recorder in self.recorders]
        for stream in streams:
            stream.priorities = self._priorities(stream)
        steps = self.block_size * self.env.num_envs
        self.env_steps += steps
        self.episodes += len(episodes)
        elapsed = max(time.time() - start, 1e-9)
        return Block(actor=self.index, streams=streams, episodes=episodes, stats=self.stats(steps / elapsed))

    def _priorities(self, stream: Any) -> np.ndarray:
        """``|n-step double-Q TD error|`` of the stream's transitions with this actor's networks."""
        observations = stream.observations(self.codec)
        returns, last, mask, discounts = n_step_targets(
            stream.rewards, stream.dones, stream.truncated, self.gamma, self.n_steps
        )
        with th.no_grad():
            obs_t, _ = self.policy.obs_to_tensor(observations[stream.obs_index])
            boot_t, _ = self.policy.obs_to_tensor(observations[stream.next_index[last]])
            q = self.policy.q_net(obs_t)
            taken = q.gather(1, th.as_tensor(stream.actions, dtype=th.long).reshape(-1, 1)).squeeze(1)
            best = self.policy.q_net(boot_t).argmax(dim=1, keepdim=True)
            boot = self.policy.q_net_target(boot_t).gather(1, best).squeeze(1)
        target = th.as_tensor(returns, dtype=th.float32) + th.as_tensor(discounts * mask, dtype=th.float32) * boot
        return (target - taken).abs().numpy()

    def stats(self, steps_per_s: float = 0.0) -> dict[str, Any]:
        """What the status file shows for this actor."""
        return {
            "pid": os.getpid(),
            "node": socket.gethostname(),
            "env_steps": self.env_steps,
            "steps_per_s": round(steps_per_s, 1),
            "epsilon": self.epsilon,
            "episodes": self.episodes,
            "last_score": self.last_score,
            "weights_version": self.version,
        }

    def pid(self) -> int:
        return os.getpid()
