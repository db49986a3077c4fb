"""``sb3-atari train --resume CHECKPOINT``: continue a stopped run to its budget, schedules included.

RL Zoo's ``-i model.zip`` loads a model and trains ``-n`` *more* steps with the step counter
restarted at 0 (SB3's ``reset_num_timesteps=True``): every schedule starts over (epsilon back to 1,
a linear learning rate back to its start) and the evaluations are numbered from 0 again. That is
right for fine-tuning, wrong for a long run that was killed. ``--resume`` instead:

- loads the checkpoint as ``-i`` does (with ``replay_buffer.pkl`` from the checkpoint's folder
  when there is one: ``--save-replay-buffer`` with ``--save-freq`` writes it beside the checkpoints);
- reads ``-n`` (or the yaml's ``n_timesteps``) as the run's *total* budget and trains what is left;
- keeps counting steps from the checkpoint's, so schedules, checkpoints and ``evaluations.npz``
  continue where they stopped (SB3's ``reset_num_timesteps=False``).

The new steps go to a new run folder as with ``-i``.
"""

from __future__ import annotations

from pathlib import Path

#: set by :func:`resume_to_zoo` for this process: the experiment manager continues the loaded model
REQUESTED = False


def resume_to_zoo(argv: list[str]) -> list[str]:
    """``argv`` with ``--resume PATH`` turned into RL Zoo's ``-i PATH`` (and :data:`REQUESTED` set);
    an unusable path or ``--resume`` with ``-i`` is one error line."""
    global REQUESTED
    from sb3_atari_ext.zoo.errors import fail

    args = list(argv)
    for i, arg in enumerate(args):
        if arg.startswith("--resume="):
            path, width = arg.split("=", 1)[1], 1
        elif arg == "--resume":
            if i + 1 >= len(args) or args[i + 1].startswith("-"):
                fail("argument --resume: expected a checkpoint (logs/<algo>/<env>_<n>/rl_model_<steps>_steps.zip)")
            path, width = args[i + 1], 2
        else:
            continue
        if any(a in ("-i", "--trained-agent") or a.startswith("--trained-agent=") for a in args):
            fail("--resume and -i/--trained-agent both name a model: give one")
        checkpoint = Path(path)
        if checkpoint.suffix != ".zip" or not checkpoint.is_file():
            fail(f"argument --resume: {path} is not a model file (a .zip written by --save-freq or a finished run)")
        del args[i : i + width]
        REQUESTED = True
        return [*args, "-i", str(checkpoint)]
    return args


def remaining_steps(total: int, done: int, checkpoint: str) -> int:
    """Steps left of a ``total``-step run whose checkpoint has ``done``; none left is an error."""
    from sb3_atari_ext.zoo.errors import fail

    if done >= total:
        fail(f"--resume: {checkpoint} is already at {done} steps of the run's {total} (-n is the total budget)")
    return total - done
