"""``PluginExperimentManager``: RL Zoo's ``ExperimentManager`` with every plugin's components.

The installer (:mod:`sb3_atari_ext.zoo.install`) puts this class in place of
``rl_zoo3.exp_manager.ExperimentManager`` right after that module executes, so ``rl_zoo3.train``
(which imports the name at module level) builds this one. Each override calls RL Zoo's method with
``super()`` and adds:

- ``__init__``: the plugin's default yaml when no ``--conf-file`` is given (merged with RL Zoo's
  own file for RL Zoo's algorithms);
- ``_preprocess_hyperparams``: the ``vec_env`` key (registered backends such as ``envpool``),
  registered wrapper short names, and the algorithm's ``validate_hyperparams`` before anything
  is built (one error line naming key, value and file);
- ``setup_experiment`` / ``learn``: user mistakes as one ``error:`` line, clean stops on
  SIGINT/SIGTERM, ``metrics.yml`` in the run folder, replay checkpoints with ``--save-freq``;
- ``save_trained_model``: every file written atomically, signals held until it is done;
- ``create_envs``: registered vec-env backends, the trial's sampled ``n_envs``;
- ``read_hyperparameters`` / ``objective`` / ``hyperparameters_optimization``: see
  :mod:`sb3_atari_ext.zoo.optimize`.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import importlib
import inspect
import os
import shutil
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from stable_baselines3.common.callbacks import CheckpointCallback
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from sb3_atari_ext.common.atomic import (
    HELD_SIGNALS,
    AtomicCheckpointCallback,
    ReplayCheckpointCallback,
    atomic_write,
    remove_stale_temporaries,
    with_suffix_like_sb3,
)
from sb3_atari_ext.common.metrics import MetricsCallback
from sb3_atari_ext.common.redact import redact_arg
from sb3_atari_ext.common.run_folder import claim_run_folder, mark_failed
from sb3_atari_ext.common.signals import StopTrainingOnSignal, signal_handlers
from sb3_atari_ext.common.validation import (
    HyperparameterError,
    check_baseline_params,
    check_frame_stack,
    check_net_arch,
    is_int,
)
from sb3_atari_ext.hookspecs import BackendUnavailable
from sb3_atari_ext.plugins import get_registry
from sb3_atari_ext.zoo import env_backends, optimize, resume
from sb3_atari_ext.zoo.errors import TrialSelectionError, user_errors
from sb3_atari_ext.zoo.names import resolve_wrappers
from sb3_atari_ext.zoo.yaml_merge import default_config

# ``sys.modules`` lookup: this module is imported while ``rl_zoo3.exp_manager`` finishes executing
_zoo = importlib.import_module("rl_zoo3.exp_manager")


class PluginExperimentManager(_zoo.ExperimentManager):  # type: ignore[misc, name-defined]
    """RL Zoo's experiment manager, plugin-aware. Takes exactly RL Zoo's arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: the hyperparameter file(s) as the user knows them (not a merged temporary file)
        self.config_label: str | None = None
        #: a merged temporary yaml, removed once RL Zoo has read it
        self.merged_config: Path | None = None
        #: the vec-env backend of this run (``dummy``, ``subproc`` or a registered one)
        self.vec_env_backend = "dummy"
        #: the ``env_wrapper`` entry, for backends that rebuild RL Zoo's env pipeline
        self.env_wrapper_spec: list[tuple[str, dict[str, Any]]] = []
        #: whether Ctrl-C ended the hyperparameter search
        self.search_interrupted = False
        #: signal mask to restore after the final save (SIGINT/SIGTERM wait from the end of learn)
        self.held_signal_mask: Any = None
        #: the signal (SIGINT / SIGTERM) that stopped training early, if one did: the process then
        #: exits with 128 + its number after the final save (130 / 143, the shell's convention)
        self.stopped_by: int | None = None
        #: the yaml entry with ``-params`` as read, stored in an Optuna study for ``sb3-atari study``
        self.base_hyperparams: dict[str, Any] = {}
        #: ``n_envs`` sampled for the running trial (``create_envs`` builds that many)
        self.trial_n_envs: int | None = None
        #: for algorithms that take an ``env_factory`` argument (``apex_ddqn``: actors rebuild the
        #: training env in their own processes), filled in when the training env is built
        self.env_factory: Any = None
        with user_errors(self):
            super().__init__(*args, **kwargs)

            self.vec_env_backend = "subproc" if self.vec_env_class is SubprocVecEnv else "dummy"
            self._check_trial_id()
            if self.n_timesteps == 0 or self.n_timesteps < -1:  # RL Zoo would train the yaml's budget
                raise HyperparameterError("n_timesteps", self.n_timesteps, "an integer >= 1", "the -n option")
            if self.optimize_hyperparameters and self.n_trials < 1:  # RL Zoo: "No trials are completed yet"
                raise HyperparameterError("n_trials", self.n_trials, "an integer >= 1", "the --n-trials option")
            given = inspect.signature(super().__init__).bind(*args, **kwargs).arguments.get("config")
            if given is None:
                found = default_config(self.algo, Path(self.config))
                if found is not None:
                    path, self.config_label, self.merged_config = found
                    self.config = str(path)

    # -- hyperparameters ------------------------------------------------------------------------
    def _check_trial_id(self) -> None:
        """``--trial-id N`` loads trial number N of the study; RL Zoo skips trial 0 (``if ... and
        trial_id``) and ignores the option without a storage, so both would train the yaml's
        settings silently. Trial 0 is made truthy; a trial id without its storage is an error."""
        if self.trial_id is None:
            return
        if not (self.storage and self.study_name):
            needs = "needs --storage and --study-name (the study to load it from)"
            raise TrialSelectionError(f"--trial-id {self.trial_id} {needs}")
        if self.trial_id < 0:
            raise TrialSelectionError(f"--trial-id {self.trial_id}: trial numbers start at 0")
        self.trial_id = _TrialNumber(self.trial_id)

    def load_trial(self, storage: Any, study_name: str, trial_id: int | None = None, convert: bool = True) -> dict[str, Any]:
        """RL Zoo's ``load_trial`` through our storage opener (heartbeats, masked errors), with a
        missing study or trial number as one error line."""

        study = optimize.load_study(storage, study_name)
        if trial_id is None:
            params = study.best_trial.params
        else:
            numbers = {t.number: t for t in study.trials}
            if trial_id not in numbers:
                known = f"0-{len(numbers) - 1}" if numbers else "none yet"
                missing = f"study {study_name!r} has no such trial (trials: {known})"
                raise TrialSelectionError(f"--trial-id {int(trial_id)}: {missing}")
            trial = numbers[trial_id]
            if trial.state != optuna.trial.TrialState.COMPLETE:
                print(f"warning: trial {int(trial_id)} of {study_name!r} is {trial.state.name}, not COMPLETE", file=sys.stderr)
            params = trial.params
        return _zoo.HYPERPARAMS_CONVERTER[self.algo](params) if convert else params

    def _save_config(self, saved_hyperparams: dict[str, Any]) -> None:
        """RL Zoo's ``config.yml``, ``args.yml`` and ``command.txt``, with every URL's password masked
        (RL Zoo writes ``--storage`` and the command line as given)."""

        args, orig_argv, argv = self.args, getattr(sys, "orig_argv", None), sys.argv
        self.args = argparse.Namespace(**{k: redact_arg(v) if isinstance(v, str) else v for k, v in vars(args).items()})
        sys.argv = [redact_arg(a) for a in argv]
        if orig_argv is not None:
            sys.orig_argv = [redact_arg(a) for a in orig_argv]
        try:
            super()._save_config(saved_hyperparams)
        finally:
            self.args, sys.argv = args, argv
            if orig_argv is not None:
                sys.orig_argv = orig_argv

    def read_hyperparameters(self) -> tuple[dict[str, Any], dict[str, Any]]:
        hyperparams, saved = super().read_hyperparameters()
        self.base_hyperparams = dict(saved)
        return hyperparams, saved

    def _preprocess_hyperparams(self, hyperparams: dict[str, Any]) -> Any:
        self._select_vec_env(hyperparams)
        for key in ("env_wrapper", "vec_env_wrapper"):
            hyperparams.update(resolve_wrappers(hyperparams, key))
        result = super()._preprocess_hyperparams(hyperparams)
        if not (isinstance(self.n_envs, int) and self.n_envs >= 1):
            raise HyperparameterError("n_envs", self.n_envs, "an integer >= 1", self._source("n_envs"))
        for key, check in (("frame_stack", lambda: check_frame_stack(self.frame_stack)),
                           ("policy_kwargs", lambda: check_net_arch(result[0].get("policy_kwargs")))):  # fmt: skip
            try:
                check()
            except HyperparameterError as exc:
                raise exc.with_source(self._source(key)) from None
        self._check_zoo_options()
        self._offer_env_factory(result[0])
        validate = getattr(_zoo.ALGOS.get(self.algo), "validate_hyperparams", None) or _baseline_checks(
            _zoo.ALGOS.get(self.algo)
        )
        if validate is not None:
            try:
                validate(result[0])
            except HyperparameterError as exc:
                raise exc.with_source(self._source(exc.key.split(".")[0])) from None
        self._warn_if_it_cannot_learn(result[0])  # after the checks: a bad value is one line, no warning first
        return result

    def _check_zoo_options(self) -> None:
        """RL Zoo's own options that it passes on unchecked (0 would divide by zero or index an
        empty list deep inside SB3)."""
        if not (is_int(self.n_eval_envs) and self.n_eval_envs >= 1):
            raise HyperparameterError("n_eval_envs", self.n_eval_envs, "an integer >= 1", "the --n-eval-envs option")
        if not is_int(self.log_interval) or self.log_interval == 0:
            expected = "-1 (the algorithm's default), an integer >= 1, or below -1 (no logging)"
            raise HyperparameterError("log_interval", self.log_interval, expected, "the --log-interval option")

    def _offer_env_factory(self, hyperparams: dict[str, Any]) -> None:
        """Any algorithm whose constructor takes ``env_factory`` gets the recipe of the training
        env (completed in ``create_envs``, once RL Zoo knows the wrappers and the run folder)."""
        algo_class = _zoo.ALGOS.get(self.algo)
        if algo_class is None or "env_factory" not in inspect.signature(algo_class.__init__).parameters:
            return
        from sb3_atari_ext.apex.envs import EnvFactory

        if self.normalize:
            expected = f"off for {self.algo} (each actor would keep its own statistics)"
            raise HyperparameterError("normalize", self.normalize, expected)
        self.env_factory = hyperparams["env_factory"] = EnvFactory(env_id=self.env_name.gym_id)

    def _warn_if_it_cannot_learn(self, hyperparams: dict[str, Any]) -> None:
        """One warning line when an off-policy run would never update (``n_timesteps`` not above
        ``learning_starts``) or explores only before it starts learning, or when one rollout of an
        on-policy run is larger than the whole budget (it is collected whole all the same)."""
        n_steps, starts = hyperparams.get("n_steps"), hyperparams.get("learning_starts")
        if starts is None and is_int(n_steps) and not self.optimize_hyperparameters:
            rollout = int(n_steps) * self.n_envs
            if rollout > int(self.n_timesteps):
                print(f"warning: one rollout (n_steps {n_steps} x {self.n_envs} envs = {rollout} steps) is larger than "
                      f"n_timesteps ({int(self.n_timesteps)}): the run collects it whole, {rollout} steps, before its "
                      "first update", file=sys.stderr)  # fmt: skip
            return
        if not isinstance(starts, (int, float)) or self.optimize_hyperparameters:
            return
        n = int(self.n_timesteps)
        if n <= starts:
            message = f"n_timesteps ({n}) <= learning_starts ({int(starts)}): this run never updates the network"
            hint = f"lower learning_starts (-params learning_starts:{max(1, n // 10)}) or train longer"
            print(f"warning: {message}; {hint}", file=sys.stderr)
            return
        fraction = hyperparams.get("exploration_fraction")
        final_eps = hyperparams.get("exploration_final_eps", 0.05)
        initial_eps = hyperparams.get("exploration_initial_eps", 1.0)
        if isinstance(fraction, (int, float)) and initial_eps != final_eps and fraction * n < starts:
            print(f"warning: exploration ends at step {int(fraction * n)}, before learning starts at {int(starts)}: "
                  f"raise exploration_fraction above {starts / n:.2f} or lower learning_starts", file=sys.stderr)  # fmt: skip

    def _source(self, key: str) -> str:
        return "the -params option" if key in (self.custom_hyperparams or {}) else str(self.config_label or self.config)

    def _select_vec_env(self, hyperparams: dict[str, Any]) -> None:
        """An explicit ``--vec-env subproc`` wins over the yaml's ``vec_env`` key."""

        requested = hyperparams.pop("vec_env", None)
        if requested is not None and self.vec_env_backend == "dummy":
            source = self._source("vec_env")
            self.vec_env_backend = env_backends.check_backend(requested, source)
        self.env_wrapper_spec = env_backends.wrapper_spec(hyperparams.get("env_wrapper"))
        if self.vec_env_backend in env_backends.BUILTIN_VEC_ENVS and self.default_vec_env_cls is None:
            self.vec_env_class = {"dummy": DummyVecEnv, "subproc": SubprocVecEnv}[self.vec_env_backend]

    # -- the run folder -------------------------------------------------------------------------
    def create_log_folder(self) -> None:
        """RL Zoo's folders, with the run folder claimed by this run alone: a run started at the same
        time as another of the same algorithm and env takes the next number instead of sharing
        ``<env>_<n>`` (:func:`~sb3_atari_ext.common.run_folder.claim_run_folder`)."""
        claimed = claim_run_folder(self.save_path, str(self.env_name))
        if claimed != Path(self.save_path):
            print(f"sb3_atari_ext: {self.save_path} was taken by a run started at the same time; this run uses {claimed}",
                  file=sys.stderr)  # fmt: skip
            self.save_path = str(claimed)
            self.params_path = f"{self.save_path}/{self.env_name}"
        super().create_log_folder()

    # -- envs -----------------------------------------------------------------------------------
    def create_envs(self, n_envs: int, eval_env: bool = False, no_log: bool = False) -> Any:
        if self.trial_n_envs and no_log and not eval_env:
            n_envs = self.trial_n_envs
        if self.env_factory is not None and not eval_env:
            # the recipe of this run's training env, as RL Zoo builds it (the bridge reads RL Zoo;
            # the algorithm only gets the recipe)
            self.env_factory.env_kwargs = dict(self.env_kwargs or {})
            self.env_factory.wrapper_class = self.env_wrapper
            self.env_factory.vec_env_wrapper = self.vec_env_wrapper
            self.env_factory.frame_stack = self.frame_stack
            self.env_factory.monitor_kwargs = dict(self.monitor_kwargs or {})
            self.env_factory.monitor_dir = None if no_log else self.save_path
        backend = self.vec_env_backend
        if backend in env_backends.BUILTIN_VEC_ENVS:
            return super().create_envs(n_envs, eval_env, no_log)
        factory = get_registry().get("vec_envs", backend)
        try:
            env = factory(
                self.env_name.gym_id,
                n_envs,
                self.seed,
                self.frame_stack,
                self.env_wrapper_spec,
                self.eval_env_kwargs if eval_env else self.env_kwargs,
                None if eval_env or no_log else self.save_path,
            )
        except BackendUnavailable as exc:
            print(f"sb3_atari_ext: vec_env {backend!r} unavailable: {exc}. Falling back to SubprocVecEnv.")
            self.vec_env_backend, self.vec_env_class = "subproc", SubprocVecEnv
            return super().create_envs(n_envs, eval_env, no_log)
        if self.verbose > 0 and not eval_env:
            print(f"sb3_atari_ext: {n_envs} envs on the {backend} backend ({type(env).__name__})")
        if self.vec_env_wrapper is not None:
            env = self.vec_env_wrapper(env)
        return self._maybe_normalize(env, eval_env)

    # -- the run --------------------------------------------------------------------------------
    def setup_experiment(self) -> Any:
        # temporary files of runs killed mid-save (a replay buffer's is GBs): nothing will finish them
        for stale in remove_stale_temporaries(Path(self.log_folder) / self.algo):
            print(f"sb3_atari_ext: removed {stale}, left by a run killed while saving", file=sys.stderr)
        try:
            with user_errors(self):
                return super().setup_experiment()
        finally:
            if self.merged_config is not None:  # read by now: leave no temporary file behind
                shutil.rmtree(self.merged_config.parent, ignore_errors=True)
                self.merged_config = None

    def learn(self, model: Any) -> None:
        continuing = self._continue_counting(model)
        stopper = StopTrainingOnSignal(verbose=1)
        # metrics.yml in the run folder: what `sb3-atari report` and the dashboard plot
        metrics = MetricsCallback(self.save_path, interval=max(100, int(self.n_timesteps) // 200))
        replay = self.replay_checkpoint()
        extra = [stopper, metrics, *([replay] if replay else [])]
        self.callbacks.extend(extra)
        first_step = model.num_timesteps
        try:
            with stopper.handle_signals(), user_errors(self, started=lambda: model.num_timesteps > first_step):
                try:
                    super().learn(model)
                    self.stopped_by = stopper.received
                finally:
                    if continuing:
                        model.__class__ = model.__class__.__base__  # the algorithm's own class again
                    # From here to the end of the final save, signals wait (RL Zoo saves next).
                    self.held_signal_mask = _hold_signals()
        except BaseException:
            self._release_signals()
            raise
        finally:
            for callback in extra:
                self.callbacks.remove(callback)

    def _continue_counting(self, model: Any) -> bool:
        """``sb3-atari train --resume``: train what is left of the ``-n`` budget and keep counting
        steps from the checkpoint's (:mod:`sb3_atari_ext.zoo.resume`); RL Zoo's own ``-i`` restarts
        the count, and with it every schedule."""
        if not (resume.REQUESTED and self.continue_training):
            return False
        self.n_timesteps = resume.remaining_steps(int(self.n_timesteps), int(model.num_timesteps), self.trained_agent)
        model._last_obs = None  # the saved observation belongs to the old envs: reset the new ones
        model.__class__ = _counting_on(type(model))  # RL Zoo calls learn(n, **kwargs) with no way to say it
        print(f"Resuming at step {model.num_timesteps}: {self.n_timesteps} steps left", file=sys.stderr)
        return True

    def create_callbacks(self) -> None:
        """RL Zoo's callbacks, with its model checkpoints (``--save-freq``) written atomically."""

        super().create_callbacks()
        self.callbacks = [AtomicCheckpointCallback.like(c) if type(c) is CheckpointCallback else c for c in self.callbacks]

    def replay_checkpoint(self) -> Any:
        """With ``--save-replay-buffer`` and ``--save-freq N``: a callback that writes the replay
        buffer (with its priorities) atomically every N steps next to RL Zoo's model checkpoints,
        so that a killed run loses at most one interval and ``-i <checkpoint>`` resumes with it."""
        if not (self.save_replay_buffer and self.save_freq > 0):
            return None

        return ReplayCheckpointCallback(Path(self.save_path) / "replay_buffer.pkl", max(self.save_freq // self.n_envs, 1))

    def save_trained_model(self, model: Any) -> None:
        """RL Zoo's final save, every file atomic, with SIGINT/SIGTERM held from the end of
        ``learn`` until every file is written; a signal that came meanwhile then ends the process
        quietly. A run that a signal stopped early is saved the same way, then exits with
        128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM), not 0."""

        held, self.held_signal_mask = self.held_signal_mask, None
        if held is None:  # learn() did not hold the signals (an error path): hold them now
            held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        received: list[int] = []
        try:
            self._save_atomically(model)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise
            message = (
                f"error: the final save to {self.save_path} failed: {exc.strerror} (a full disk or quota); "
                "no file was half-written (each is written whole or not at all); free space, then train again "
                "or resume from a --save-freq checkpoint with -i"
            )
            with contextlib.suppress(OSError):  # the marker itself may not fit
                mark_failed(Path(self.save_path), message)
            raise SystemExit(message) from None
        finally:
            with signal_handlers(lambda signum, _: received.append(signum), HELD_SIGNALS):
                signal.pthread_sigmask(signal.SIG_SETMASK, held)  # pending signals arrive here, recorded
        if received:
            name = signal.Signals(received[0]).name
            print(f"{name} received during the final save: the save was completed first", file=sys.stderr)
            raise SystemExit(128 + received[0])
        if self.stopped_by is not None:  # saved as a finished run is, but it did not finish: say so to the shell
            name = signal.Signals(self.stopped_by).name
            print(f"{name}: training stopped at step {model.num_timesteps} and saved in {self.save_path}", file=sys.stderr)
            raise SystemExit(128 + self.stopped_by)

    def _save_atomically(self, model: Any) -> None:
        """What RL Zoo's ``save_trained_model`` writes (model, replay buffer if asked, VecNormalize
        statistics), each file written atomically, for every algorithm (SB3's too)."""

        print(f"Saving to {self.save_path}")
        with atomic_write(with_suffix_like_sb3(f"{self.save_path}/{self.env_name}", "zip")) as tmp:
            model.save(tmp)
        # only a model that has a replay buffer (pqn and the on-policy algorithms have none)
        if self.save_replay_buffer and getattr(model, "replay_buffer", None) is not None:
            print("Saving replay buffer")
            with atomic_write(os.path.join(self.save_path, "replay_buffer.pkl")) as tmp:
                model.save_replay_buffer(tmp)
        if self.normalize:
            with atomic_write(os.path.join(self.params_path, "vecnormalize.pkl")) as tmp:
                model.get_vec_normalize_env().save(tmp)

    def _release_signals(self) -> None:
        mask, self.held_signal_mask = self.held_signal_mask, None
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    # -- hyperparameter search ------------------------------------------------------------------
    def hyperparameters_optimization(self) -> None:
        self.search_interrupted = False
        try:
            with optimize.search_storage(self), warnings.catch_warnings(), self._search_interrupts():
                # RL Zoo's closing importance plot on a few trials: Optuna's PED-ANOVA says its quantiles
                # coincide, which tells the user nothing about their search
                warnings.filterwarnings("ignore", message="Target and region quantiles select the same set")
                super().hyperparameters_optimization()
        except ValueError:  # RL Zoo's summary of a study with no completed trial
            if not self.search_interrupted:
                raise
        if self.search_interrupted:
            print(
                "interrupted: the search stopped at Ctrl-C (the running trial is marked pruned); finished trials "
                "are kept in the study, and the same command goes on with it",
                file=sys.stderr,
            )
            raise SystemExit(130)

    @contextlib.contextmanager
    def _search_interrupts(self) -> Iterator[None]:
        """Ctrl-C during ``--optimize`` only sets a flag: the running trial's training stops at its
        next step and :meth:`objective` ends the search (a ``KeyboardInterrupt`` raised anywhere
        inside Optuna's bookkeeping would leave it in a broken state). A second Ctrl-C ends the
        process at once."""

        def handler(signum: int, frame: Any) -> None:
            if self.search_interrupted:
                print("error: interrupted again: stopping at once", file=sys.stderr)
                os._exit(130)
            self.search_interrupted = True
            print("Ctrl-C: the search stops at the running trial's next step (Ctrl-C again: at once)", file=sys.stderr)

        with signal_handlers(handler, (signal.SIGINT,)):
            yield

    def objective(self, trial: Any) -> float:
        callbacks, n_envs = self.specified_callbacks, self.n_envs
        self.specified_callbacks = optimize.with_trial_metrics(self, trial)
        token = optimize.CURRENT.set(self)
        try:
            if not self.search_interrupted:
                value = super().objective(trial)
            if self.search_interrupted:
                # the trial was cut short: recorded as pruned, not with a value; no trial after it
                trial.study.stop()
                raise optuna.TrialPruned("interrupted by Ctrl-C")
            return value
        finally:
            optimize.CURRENT.reset(token)
            self.specified_callbacks, self.n_envs, self.trial_n_envs = callbacks, n_envs, None


class _TrialNumber(int):
    """A trial number that is true even when it is 0 (RL Zoo tests ``self.trial_id`` for truth)."""

    def __bool__(self) -> bool:
        return True


@functools.cache
def _counting_on(cls: type) -> type:
    """``cls`` whose ``learn`` keeps the step count by default (SB3's ``reset_num_timesteps=False``);
    nothing else differs, and saved files do not record the class."""

    def learn(self: Any, *args: Any, reset_num_timesteps: bool = False, **kwargs: Any) -> Any:
        return cls.learn(self, *args, reset_num_timesteps=reset_num_timesteps, **kwargs)

    return type(cls.__name__, (cls,), {"learn": learn, "__module__": cls.__module__, "__qualname__": cls.__qualname__})


def _hold_signals() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)


# Imported before RL Zoo (``import sb3_atari_ext.zoo.manager``): the installer waited for this class.
_finish = _zoo.__dict__.pop("_sb3_atari_ext_finish_install", None)
if _finish is not None:
    _finish()


def _baseline_checks(algo_class: Any) -> Any:
    """The checks for SB3's and sb3-contrib's own algorithms, which bring none: Q-learning
    (``DQN``, ``QRDQN``) or on-policy (``A2C``, ``PPO``, ``RecurrentPPO``); None for the others."""
    from sb3_contrib import QRDQN
    from stable_baselines3 import DQN
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    if not isinstance(algo_class, type):
        return None
    if issubclass(algo_class, DQN | QRDQN):
        return functools.partial(check_baseline_params, family="q_learning")
    if issubclass(algo_class, OnPolicyAlgorithm):
        return functools.partial(check_baseline_params, family="on_policy")
    return None
