from typing import Any

from sb3_atari_ext.ddqn_prio import DDQNPrio


class DDQNNStep3(DDQNPrio):
    """``ddqn_prio`` with 3-step returns and a dueling head unless told otherwise."""

    def __init__(self, *args: Any, n_steps: int = 3, policy_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        policy_kwargs = {"dueling": True, **(policy_kwargs or {})}
        super().__init__(*args, n_steps=n_steps, policy_kwargs=policy_kwargs, **kwargs)
