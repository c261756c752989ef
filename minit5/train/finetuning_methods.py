"""The fine-tuning methods of paper §3.5.1 (Table 10) as one setting: which weights train.

    {"method": "all parameters"}                     every weight (the §3.1 baseline's way)
    {"method": "adapters", "adapter_dim": d}         new adapter layers + layer norms only
                                                     (minit5.t5.adapters)
    {"method": "gradual unfreezing"}                 the top layers first, one more per episode
                                                     (minit5.train.unfreezing)

`finetuning_method(...)` builds and checks one; `prepare(model, method, total_steps, seed)`
applies it to a model whose pre-trained weights are already loaded, and returns what the
trainer must call before every step (`Trainer(..., before_step=...)`; None when nothing
changes during the run). Steps, batch, learning rate and validation are the caller's and do
not depend on the method.
"""
from __future__ import annotations

from minit5.t5.adapters import add_adapters
from minit5.t5.config import check_adapter_dim
from minit5.train.unfreezing import gradual_unfreezing

METHODS = ("all parameters", "adapters", "gradual unfreezing")
ALL_PARAMETERS = {"method": "all parameters"}


def finetuning_method(method: str = "all parameters", adapter_dim=None) -> dict:
    """One method's settings, checked (`adapter_dim` only, and always, for "adapters")."""
    return check_method({"method": method} if adapter_dim is None
                        else {"method": method, "adapter_dim": adapter_dim})


def check_method(settings: dict) -> dict:
    """`settings` if it is one of the module docstring's forms, else a ValueError saying
    which form fits."""
    if not isinstance(settings, dict) or settings.get("method") not in METHODS:
        got = settings.get("method") if isinstance(settings, dict) else settings
        raise ValueError(f"fine-tuning method {got!r}: choose one of {METHODS}")
    keys = {"method", "adapter_dim"} if settings["method"] == "adapters" else {"method"}
    if set(settings) != keys:
        raise ValueError(f"the {settings['method']!r} method takes the settings "
                         f"{sorted(keys)}, got {sorted(settings)}"
                         + ("; give the adapters' inner size, e.g. adapter_dim=32"
                            if settings["method"] == "adapters" else ""))
    if settings["method"] == "adapters":
        return {**settings, "adapter_dim": check_adapter_dim(settings["adapter_dim"])}
    return dict(settings)


def prepare(model, settings: dict, total_steps: int, seed: int = 0):
    """Apply a method to `model` (in place) for a `total_steps` run; returns the trainer's
    `before_step` or None. Adapters are drawn from `seed` (the fine-tuning seed)."""
    settings = check_method(settings)
    model.requires_grad_(True)
    if settings["method"] == "adapters":
        add_adapters(model, settings["adapter_dim"], seed)
        return None
    if settings["method"] == "gradual unfreezing":
        return gradual_unfreezing(model, total_steps)
    return None
