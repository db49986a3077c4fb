"""Hook implementations of the example plugin."""

from pathlib import Path

from sb3_atari_ext import hookimpl


@hookimpl
def register_algorithms(register):
    from sb3_atari_example.algorithm import DDQNNStep3

    register("ddqn_nstep3", DDQNNStep3)


@hookimpl
def register_wrappers(register):
    from sb3_atari_example.wrappers import ScaleReward

    register("ScaleReward", ScaleReward)


@hookimpl
def register_hyperparams(register):
    register("ddqn_nstep3", Path(__file__).parent / "hyperparams" / "ddqn_nstep3.yml")


@hookimpl
def register_samplers(register):
    from sb3_atari_ext.ddqn_prio.search import convert_ddqn_prio_params, sample_ddqn_prio_params

    register("ddqn_nstep3", sample_ddqn_prio_params, converter=convert_ddqn_prio_params)
