"""``apex_ddqn``: Ape-X (Horgan et al. 2018), distributed prioritized Double DQN on Ray.

Many actors (Ray actor processes, on this machine or a cluster) play with their own epsilon and
send blocks of transitions with initial priorities; one learner (this process, on ``device``)
inserts them into its prioritized replay buffer, samples and updates, and publishes its weights
through Ray's object store every ``weight_sync_interval`` updates. The saved model is an
ordinary ``DDQNPrio`` model: ``rl_zoo3.enjoy``, ``sb3-atari evaluate``/``report`` need no Ray.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import time
from typing import Any, ClassVar, TypeVar

import numpy as np
from stable_baselines3.common.monitor import ResultsWriter
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.utils import polyak_update

from sb3_atari_ext.apex.actor import ApexActor, actor_epsilon
from sb3_atari_ext.apex.blocks import Block, FrameCodec
from sb3_atari_ext.apex.envs import EnvFactory, space_signature
from sb3_atari_ext.apex.status import write_status
from sb3_atari_ext.buffers.prioritized import PrioritizedReplayBuffer
from sb3_atari_ext.common.validation import HyperparameterError, MissingExtraError, check_params, first_line, is_int
from sb3_atari_ext.ddqn_prio.ddqn_prio import DDQNPrio

SelfApexDDQN = TypeVar("SelfApexDDQN", bound="ApexDDQN")


def require_ray() -> Any:
    """The ``ray`` module, or :class:`MissingExtraError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise MissingExtraError("ray", "ray", "apex_ddqn (distributed training on Ray)") from None
    return ray


def _factory_of(env: Any) -> EnvFactory | None:
    """The recipe for an env id, or for an env made by ``gym.make`` (its spec); else ``None``."""
    if isinstance(env, str):
        return EnvFactory(env)
    spec = getattr(env, "spec", None)
    if spec is not None and getattr(spec, "id", None) and not hasattr(env, "num_envs"):
        return EnvFactory(spec.id, env_kwargs=dict(spec.kwargs or {}))
    return None


class ActorLostError(RuntimeError):
    """An actor stayed unreachable longer than ``actor_timeout`` (dead past ``max_restarts``)."""


class ApexDDQN(DDQNPrio):
    """
    Ape-X DQN: ``DDQNPrio``'s learner fed by ``n_actors`` Ray actors (Horgan et al. 2018,
    https://arxiv.org/abs/1803.00933).

    Takes every argument of :class:`~sb3_atari_ext.ddqn_prio.DDQNPrio` (the learner's settings),
    plus the ones below. ``learn(total_timesteps)`` counts env steps over all actors;
    ``train_freq`` and ``gradient_steps`` are not used (the learner updates continuously, paced by
    ``max_replay_ratio``). The replay buffer must be a :class:`PrioritizedReplayBuffer`.

    :param n_actors: number of actor processes
    :param n_envs_per_actor: envs in each actor (stepped together, acted on in one batch)
    :param block_size: env steps per env an actor plays before sending its block
    :param weight_sync_interval: publish the learner's weights every this many updates
    :param max_replay_ratio: most samples drawn per transition inserted (``batch_size / train_freq``
        in a single-process run: 8 for batch 32 every 4 steps). Caps the learner when the actors
        are slow and holds the actors back when the learner is slow, so a run learns the same
        on a laptop and on a cluster. ``None``: no cap (actors and learner run freely, as in the paper).
    :param actor_epsilon_base: ``eps_i = base ** (1 + alpha * i / (N - 1))``
    :param actor_epsilon_alpha: see ``actor_epsilon_base``
    :param max_restarts: how often Ray restarts a dead actor before the run fails
    :param ray_address: ``None`` starts a local Ray instance (stopped at the end), ``"auto"`` or
        ``"host:port"`` joins a running cluster (``ray start --head`` first)
    :param actor_num_cpus: CPUs Ray reserves for each actor
    :param status_interval: seconds between writes of ``apex_status.json``
    :param actor_nice: niceness added to actor processes, so that a learner sharing their machine
        keeps its core (the learner is what limits Ape-X on CPUs); 0 leaves them as they are
    :param actor_timeout: seconds an actor may stay unreachable (Ray restarting it) before the run
        fails; an actor past ``max_restarts`` stays unreachable
    :param env_factory: how actors build their envs (:class:`EnvFactory`; RL Zoo passes the
        training env's recipe; ``None``: the env id given as ``env``, or the id of an env made
        by ``gym.make``, with no further wrappers)
    """

    algo_name: ClassVar[str] = "apex_ddqn"

    def __init__(
        self,
        policy: Any,
        env: Any,
        n_actors: int = 2,
        n_envs_per_actor: int = 1,
        block_size: int = 50,
        weight_sync_interval: int = 50,
        max_replay_ratio: float | None = 8.0,
        actor_epsilon_base: float = 0.4,
        actor_epsilon_alpha: float = 7.0,
        max_restarts: int = 3,
        ray_address: str | None = None,
        actor_num_cpus: float = 1.0,
        status_interval: float = 2.0,
        actor_timeout: float = 120.0,
        actor_nice: int = 10,
        env_factory: EnvFactory | None = None,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        self.validate_apex_params(
            dict(n_actors=n_actors, n_envs_per_actor=n_envs_per_actor, block_size=block_size,
                 weight_sync_interval=weight_sync_interval, max_replay_ratio=max_replay_ratio,
                 actor_epsilon_base=actor_epsilon_base, actor_epsilon_alpha=actor_epsilon_alpha,
                 max_restarts=max_restarts, actor_num_cpus=actor_num_cpus, actor_nice=actor_nice,
                 status_interval=status_interval, actor_timeout=actor_timeout)  # fmt: skip
        )
        if _init_setup_model:
            require_ray()  # fail at once, not after the envs and networks are built
        self.n_actors = int(n_actors)
        self.n_envs_per_actor = int(n_envs_per_actor)
        self.block_size = int(block_size)
        self.weight_sync_interval = int(weight_sync_interval)
        self.max_replay_ratio = None if max_replay_ratio is None else float(max_replay_ratio)
        self.actor_epsilon_base = float(actor_epsilon_base)
        self.actor_epsilon_alpha = float(actor_epsilon_alpha)
        self.max_restarts = int(max_restarts)
        self.ray_address = ray_address
        self.actor_num_cpus = float(actor_num_cpus)
        self.status_interval = float(status_interval)
        self.actor_timeout = float(actor_timeout)
        self.actor_nice = int(actor_nice)
        self.env_factory = env_factory if env_factory is not None else _factory_of(env)
        super().__init__(policy, env, _init_setup_model=_init_setup_model, **kwargs)

    @staticmethod
    def validate_apex_params(params: dict[str, Any]) -> None:
        """Raise :class:`HyperparameterError` naming the first bad Ape-X setting."""
        positive_int = (lambda v: is_int(v) and v >= 1, "an integer >= 1")
        check_params(
            params,
            {
                "n_actors": positive_int,
                "n_envs_per_actor": positive_int,
                "block_size": positive_int,
                "weight_sync_interval": positive_int,
                "max_restarts": (lambda v: is_int(v) and v >= 0, "an integer >= 0"),
                "actor_nice": (lambda v: is_int(v) and 0 <= v <= 19, "an integer in [0, 19]"),
                "actor_epsilon_base": (lambda v: 0 <= v <= 1, "in [0, 1]"),
                "actor_epsilon_alpha": (lambda v: v >= 0, ">= 0"),
                "actor_num_cpus": (lambda v: v > 0, "> 0"),
                "status_interval": (lambda v: 0 < v < float("inf"), "> 0 seconds"),
                "actor_timeout": (lambda v: v > 0, "> 0 seconds"),
            },
        )
        ratio = params.get("max_replay_ratio")
        if ratio is not None and not (isinstance(ratio, (int, float)) and not isinstance(ratio, bool) and ratio > 0):
            raise HyperparameterError("max_replay_ratio", ratio, "a number > 0 (samples per inserted transition) or None")

    @classmethod
    def validate_hyperparams(cls, params: dict[str, Any]) -> None:
        super().validate_hyperparams(params)
        cls.validate_apex_params(params)

    def _setup_model(self) -> None:
        super()._setup_model()
        if not isinstance(self.replay_buffer, PrioritizedReplayBuffer) or self.replay_buffer.n_envs != 1:
            raise HyperparameterError(
                "replay_buffer_class", type(self.replay_buffer).__name__,
                "PrioritizedReplayBuffer (or a subclass) with one env: actors send prioritized streams",
            )  # fmt: skip

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "env_factory"]

    def actor_epsilons(self) -> list[float]:
        """The epsilon of each actor."""
        base, alpha = self.actor_epsilon_base, self.actor_epsilon_alpha
        return [actor_epsilon(i, self.n_actors, base, alpha) for i in range(self.n_actors)]

    # -- training -------------------------------------------------------------------------------
    def learn(
        self: SelfApexDDQN,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "ApexDDQN",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfApexDDQN:
        ray = require_ray()
        if self.env_factory is None:
            raise ValueError("apex_ddqn needs env_factory=EnvFactory(...) (or an env id as env) to build the actors' envs")
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        callback.on_training_start(locals(), globals())
        runtime = _Runtime(self, ray)
        state = "failed"
        try:
            runtime.start()
            state = runtime.run(total_timesteps, callback, log_interval)
        finally:
            runtime.stop(state)
        callback.on_training_end()
        return self


IN_FLIGHT = 2  # collect calls queued per actor
POLL_S = 0.2  # seconds between looks for finished blocks while the learner has work


class _Runtime:
    """The learner's side of one ``learn`` call: Ray, the actors, the loop, the status file."""

    def __init__(self, model: ApexDDQN, ray: Any) -> None:
        self.model, self.ray = model, ray
        self.buffer: PrioritizedReplayBuffer = model.replay_buffer  # type: ignore[assignment]
        self.codec = FrameCodec(model.observation_space, model.action_space, self.buffer.frame_channels)
        self.started_ray = False
        self.actors: list[Any] = []
        self.pending: dict[Any, int] = {}
        self.inflight = [0] * model.n_actors
        self.retry: dict[int, float] = {}  # actor -> when to call it again (while Ray restarts it)
        self.failing_since: dict[int, float] = {}
        self.pids: list[int | None] = [None] * model.n_actors
        self.counted = [False] * model.n_actors  # the current restart was counted when a call failed
        self.restarts = [0] * model.n_actors
        self.actor_stats: list[dict[str, Any]] = [{} for _ in range(model.n_actors)]
        self.last_restart: str | None = None
        self.inserted = 0
        self.sampled = 0
        self.updates = 0
        self.version = 0
        self.weights: Any = None
        self.writers: dict[tuple[int, int], ResultsWriter] = {}
        self.t_start = time.time()
        self.last_status = 0.0
        self.rate_mark = (time.time(), 0)
        self.updates_per_s = 0.0
        self.episodes_logged = 0
        self.log_interval = 4

    # -- Ray and the actors ---------------------------------------------------------------------
    def start(self) -> None:
        ray, model = self.ray, self.model
        if not ray.is_initialized():
            kwargs: dict[str, Any] = dict(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=True)
            if model.ray_address:
                ray.init(address=model.ray_address, **kwargs)
            else:
                ray.init(num_cpus=max(os.cpu_count() or 1, int(np.ceil(model.n_actors * model.actor_num_cpus))), **kwargs)
            self.started_ray = True
        remote = ray.remote(num_cpus=model.actor_num_cpus, max_restarts=model.max_restarts, max_task_retries=0)(ApexActor)
        policy_kwargs = dict(model.policy_kwargs)
        for i, epsilon in enumerate(model.actor_epsilons()):
            self.actors.append(
                remote.remote(
                    i, model.env_factory, model.n_envs_per_actor, model.seed, model.policy_class, policy_kwargs,
                    space_signature(model.observation_space, model.action_space), epsilon, model.n_steps, model.gamma,
                    model.block_size, self.buffer.frame_channels, model.actor_nice,
                )  # fmt: skip
            )
        if folder := self.monitor_dir:  # one monitor file per actor env from the start, as SB3's Monitor does
            for i in range(model.n_actors):
                for env in range(model.n_envs_per_actor):
                    self.writer(folder, i, env)
        self.publish()
        for i in range(model.n_actors):
            self.fill(i)
        if model.verbose >= 1:
            where = model.ray_address or "a local Ray instance"
            print(f"apex_ddqn: {model.n_actors} actors x {model.n_envs_per_actor} envs on {where}, "
                  f"epsilons {', '.join(f'{e:.3g}' for e in model.actor_epsilons())}")  # fmt: skip

    def stop(self, state: str) -> None:
        """Stop every actor (and the local Ray instance); write the final status."""
        with contextlib.suppress(OSError):
            self.write_status(state)
        for writer in self.writers.values():
            writer.close()
        for actor in self.actors:
            with contextlib.suppress(Exception):  # already gone
                self.ray.kill(actor, no_restart=True)
        self.actors, self.pending = [], {}
        if self.started_ray:
            self.ray.shutdown()

    def publish(self) -> None:
        """One ``ray.put`` of the learner's weights (online and target networks) for all actors."""
        state = {k: v.detach().cpu().contiguous().numpy() for k, v in self.model.policy.state_dict().items()}
        self.weights = self.ray.put(state)
        self.version += 1

    def fill(self, i: int) -> None:
        """Queue ``collect`` calls on actor ``i`` up to ``IN_FLIGHT`` (unless it must wait): the
        second call starts as soon as the first returns, so an actor never idles while the learner
        is busy with an update."""
        while self.inflight[i] < IN_FLIGHT and i not in self.retry and self.actors_may_run():
            self.pending[self.actors[i].collect.remote(self.weights, self.version)] = i
            self.inflight[i] += 1

    def actor_failed(self, i: int, exc: BaseException) -> None:
        """A call to actor ``i`` failed: its process died (Ray restarts it) or is restarting."""
        now = time.time()
        text = str(exc)
        if "creation task" in text:  # the actor cannot even start (bad env id, missing package...)
            lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("^")]
            raise ActorLostError(f"apex_ddqn: actor {i} could not start: {lines[-1] if lines else type(exc).__name__}")
        if i not in self.failing_since:  # a new failure: its process died, Ray restarts it
            self.failing_since[i] = now
            self.restarts[i] += 1
            self.counted[i] = True
            reason = first_line(exc)
            self.last_restart = f"actor {i} at env step {self.model.num_timesteps}: {reason[:200]}"
            print(f"apex_ddqn: actor {i} is unavailable ({type(exc).__name__}); waiting for Ray to restart it",
                  file=sys.stderr)  # fmt: skip
            self.actor_stats[i] = {**self.actor_stats[i], "state": "restarting"}
            self.write_status("running")
        elif now - self.failing_since[i] > self.model.actor_timeout:
            raise ActorLostError(
                f"apex_ddqn: actor {i} has not come back for {now - self.failing_since[i]:.0f} s "
                f"({self.restarts[i]} restarts so far, max_restarts={self.model.max_restarts})"
            )
        self.retry[i] = now + 0.5

    def actor_alive(self, i: int, pid: int) -> None:
        """A block from actor ``i``'s process ``pid``: a new pid means Ray restarted the actor."""
        self.failing_since.pop(i, None)
        known = self.pids[i]
        if known is not None and pid != known:
            if not self.counted[i]:  # it died between two calls: no call failed
                self.restarts[i] += 1
            self.last_restart = f"actor {i} restarted by Ray at env step {self.model.num_timesteps} (pid {known} -> {pid})"
            print(f"apex_ddqn: {self.last_restart}, restart {self.restarts[i]} of max_restarts={self.model.max_restarts}",
                  file=sys.stderr)  # fmt: skip
        self.pids[i] = pid
        self.counted[i] = False

    # -- pacing ---------------------------------------------------------------------------------
    def learning(self) -> bool:
        return self.model.num_timesteps > self.model.learning_starts and self.buffer.size() >= self.model.batch_size

    def can_train(self) -> bool:
        ratio = self.model.max_replay_ratio
        return self.learning() and (ratio is None or self.sampled + self.model.batch_size <= ratio * self.inserted)

    def actors_may_run(self) -> bool:
        ratio = self.model.max_replay_ratio
        if ratio is None or not self.learning():
            return True
        # one round of blocks ahead of the learner at most
        slack = self.model.n_actors * self.model.block_size * self.model.n_envs_per_actor
        return self.sampled >= ratio * (self.inserted - slack)

    # -- the loop -------------------------------------------------------------------------------
    def run(self, total_timesteps: int, callback: Any, log_interval: int) -> str:
        ray, model = self.ray, self.model
        self.log_interval = log_interval
        last_poll = 0.0
        while model.num_timesteps < total_timesteps:
            ready = []
            if not self.can_train():  # nothing to do but wait for a block
                if self.pending:
                    ready, _ = ray.wait(list(self.pending), num_returns=1, timeout=0.2)
                else:
                    time.sleep(0.05)
            elif time.perf_counter() - last_poll >= POLL_S:
                # ray.wait costs ~10 ms even with timeout 0 on 2 busy cores: while the learner has
                # work, look for finished blocks every POLL_S only (actors have a call queued)
                last_poll = time.perf_counter()
                ready, _ = ray.wait(list(self.pending), num_returns=len(self.pending), timeout=0.0)
            for ref in ready:
                i = self.pending.pop(ref)
                self.inflight[i] -= 1
                try:
                    block = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    self.actor_failed(i, exc)  # its block in flight is lost, nothing else
                    continue
                self.actor_alive(i, int(block.stats["pid"]))
                if not self.insert(block, total_timesteps, callback):
                    return "stopped"
            if self.can_train():
                model._update_current_progress_remaining(model.num_timesteps, total_timesteps)
                model.train(gradient_steps=1, batch_size=model.batch_size)
                self.sampled += model.batch_size
                self.updates += 1
                if self.updates % model.weight_sync_interval == 0:
                    self.publish()
            for i, when in list(self.retry.items()):
                if time.time() >= when:
                    del self.retry[i]
            for i in range(model.n_actors):
                self.fill(i)
            if time.time() - self.last_status >= model.status_interval:
                self.write_status("running")
        return "finished"

    def insert(self, block: Block, total_timesteps: int, callback: Any) -> bool:
        """Store the block's streams, count its steps, run the callbacks; ``False``: stop."""
        model = self.model
        self.actor_stats[block.actor] = {**block.stats, "state": "running"}
        for stream in block.streams:
            take = min(len(stream), total_timesteps - model.num_timesteps)
            if take <= 0:
                break
            observations = stream.observations(self.codec)
            self.buffer.add_stream(
                observations[stream.obs_index[:take]],
                observations[stream.next_index[:take]],
                stream.actions[:take],
                stream.rewards[:take],
                stream.dones[:take],
                stream.truncated[:take],
                None if stream.priorities is None else stream.priorities[:take],
            )
            self.inserted += take
            for _ in range(take):
                model.num_timesteps += 1
                model._n_calls += 1
                if model._n_calls % max(model.target_update_interval, 1) == 0:
                    polyak_update(model.q_net.parameters(), model.q_net_target.parameters(), model.tau)
                    polyak_update(model.batch_norm_stats, model.batch_norm_stats_target, 1.0)
                if not callback.on_step():
                    return False
        self.record_episodes(block)
        return True

    def record_episodes(self, block: Block) -> None:
        model = self.model
        folder = self.monitor_dir
        now = round(time.time() - self.t_start, 6)
        for episode in block.episodes:
            info = {"r": episode["r"], "l": episode["l"], "t": now}
            model.ep_info_buffer.extend([info])  # type: ignore[union-attr]
            model._episode_num += 1
            if folder:
                self.writer(folder, block.actor, int(episode["env"])).write_row(info)
        if self.log_interval and model._episode_num - self.episodes_logged >= self.log_interval:
            self.episodes_logged = model._episode_num
            self.record_metrics()
            model.dump_logs()

    @property
    def monitor_dir(self) -> str | None:
        """The run folder the monitor files and the status file go to (``None``: none)."""
        factory = self.model.env_factory
        return factory.monitor_dir if factory is not None else None

    def writer(self, folder: str, actor: int, env: int) -> ResultsWriter:
        """The ``actor{actor}-env{env}.monitor.csv`` writer (created, header written, on first use)."""
        key = (actor, env)
        if key not in self.writers:
            header = {"t_start": self.t_start, "env_id": self.model.env_factory.env_id}
            self.writers[key] = ResultsWriter(os.path.join(folder, f"actor{actor}-env{env}"), header=header)
        return self.writers[key]

    # -- reporting ------------------------------------------------------------------------------
    def record_metrics(self) -> None:
        logger = self.model.logger
        logger.record("apex/updates_per_s", self.updates_per_s)
        logger.record("apex/replay_ratio", self.sampled / max(self.inserted, 1))
        logger.record("apex/actor_steps_per_s", sum(float(s.get("steps_per_s") or 0) for s in self.actor_stats))
        logger.record("apex/restarts", sum(self.restarts))

    def write_status(self, state: str) -> None:
        model = self.model
        now = time.time()
        then, updates = self.rate_mark
        if now - then >= 1.0:
            self.updates_per_s = (self.updates - updates) / (now - then)
            self.rate_mark = (now, self.updates)
        self.last_status = now
        folder = self.monitor_dir
        if not folder:
            return
        actors = [
            {"index": i, **self.actor_stats[i], "restarts": self.restarts[i]}
            for i in range(model.n_actors)
        ]
        status = {
            "state": state,
            "updated": now,
            "elapsed_s": round(now - self.t_start, 1),
            "env_id": model.env_factory.env_id,
            "actors": actors,
            "learner": {
                "pid": os.getpid(),
                "node": socket.gethostname(),
                "device": str(model.device),
                "updates": self.updates,
                "updates_per_s": round(self.updates_per_s, 1),
                "replay_size": int(self.buffer.size()),
                "replay_ratio": round(self.sampled / max(self.inserted, 1), 3),
                "env_steps": model.num_timesteps,
                "weights_version": self.version,
            },
            "last_restart": self.last_restart,
        }
        write_status(folder, status)
