"""Adafactor trajectories from `transformers.optimization.Adafactor`, in float64.

`make(out_dir)` writes `out_dir/adafactor/`:
    inputs.npz        the replayable inputs, shared by every option set: `init.{i}` (the starting
                      parameters), `grad.{i}` (STEPS, *shape): the gradient of parameter i at each
                      step, `has_grad` (STEPS, P) bool: False where that parameter gets no
                      gradient at that step (grad None; its stored row is zeros).
    <option set>.npz  `options` (JSON of the Adafactor keyword arguments), `lrs` (STEPS,): the lr
                      set before each step (nan: not set), `snapshot_steps` (K,), `param.{i}`
                      (K, *shape): parameter i after those steps, and `state.{i}.{name}`: the
                      optimizer state after the last step, plus the torch/transformers versions.

Gradients come from a seeded NumPy generator (not from a loss), so minit5 replays exactly the
same sequence without torch. Their scale varies by orders of magnitude from step to step (a
spike at step 10 makes the update clipping bite, a tiny one at step 20), some entries are
always zero (only eps1 keeps their V positive), one parameter's gradients are so small
(~1e-10) that eps1 = 1e-20 changes its update, and some parameters skip steps. The comparison
uses `min_dim_size_to_factor=0`, transformers' factoring rule.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np

SEED = 20200101
STEPS = 32
SNAPSHOT_STEPS = (1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32)
SHAPES = ((7,), (5, 3), (13, 9), (2, 3, 4), (1, 17), (130, 3), (4, 1))

# Keyword arguments of transformers' Adafactor for each option set; `LR_SCHEDULES` names the
# sets whose lr changes before every step (as a schedule sets `opt.lr` in minit5).
OPTION_SETS = {
    "relative_step": {},                                              # the defaults
    "fixed_lr": {"lr": 1e-3, "scale_parameter": False, "relative_step": False},
    "warmup_init": {"warmup_init": True},
    "momentum_weight_decay": {"lr": 1e-3, "relative_step": False, "beta1": 0.9,
                              "weight_decay": 0.01},
    "scheduled_lr": {"lr": 1e-2, "relative_step": False, "clip_threshold": 0.5,
                     "decay_rate": -0.6, "eps": [1e-20, 1e-2]},
}
LR_SCHEDULES = {"scheduled_lr": lambda t: 1e-2 / np.sqrt(t)}          # t = 1, 2, ...


def make_inputs(seed: int = SEED) -> dict:
    """Starting parameters, gradient sequence and grad-present mask, all float64 / bool."""
    rng = np.random.default_rng(seed)
    inputs = {}
    has_grad = np.ones((STEPS, len(SHAPES)), dtype=bool)
    for i, shape in enumerate(SHAPES):
        init = rng.standard_normal(shape)
        if shape == (7,):
            init = np.zeros(shape)                  # RMS 0: the eps2 floor of the scale
        elif shape == (1, 17):
            init = 1e-4 * init                      # RMS < eps2 = 1e-3
        inputs[f"init.{i}"] = init
        scales = np.exp(rng.normal(0.0, 1.0, size=STEPS))
        scales[9] = 100.0                           # step 10: a spike, the update is clipped
        scales[19] = 1e-3                           # step 20: a tiny gradient
        bias = rng.normal(0.0, 0.5, size=shape)     # a direction that persists across steps
        noise = rng.standard_normal((STEPS,) + shape)
        inputs[f"grad.{i}"] = scales.reshape((STEPS,) + (1,) * len(shape)) * (noise + bias)
    inputs["grad.6"] *= 1e-10                       # G^2 ~ 1e-20: eps1 = 1e-20 matters
    inputs["grad.0"][:, 0] = 0.0                    # entries that never get a gradient
    inputs["grad.2"][:, 0, :] = 0.0                 # (an unused token's embedding row): V
                                                    # is eps1 there, G / sqrt(V) is 0, not nan
    has_grad[0, 0] = False                          # (7,) starts one step late
    has_grad[3::4, 6] = False                       # (4, 1) skips every fourth step
    for i in range(len(SHAPES)):
        inputs[f"grad.{i}"][~has_grad[:, i]] = 0.0
    inputs["has_grad"] = has_grad
    return inputs


def lr_sequence(name: str) -> np.ndarray:
    """The lr set before each step t = 1..STEPS (nan: left as constructed)."""
    schedule = LR_SCHEDULES.get(name)
    if schedule is None:
        return np.full(STEPS, np.nan)
    return np.array([schedule(t) for t in range(1, STEPS + 1)], dtype=np.float64)


def _run_transformers(name: str, inputs: dict) -> dict:
    import torch
    import transformers
    from transformers.optimization import Adafactor

    options = dict(OPTION_SETS[name])
    if "eps" in options:
        options["eps"] = tuple(options["eps"])
    params = [torch.nn.Parameter(torch.tensor(inputs[f"init.{i}"], dtype=torch.float64))
              for i in range(len(SHAPES))]
    opt = Adafactor(params, **options)
    lrs = lr_sequence(name)
    snapshots = {i: [] for i in range(len(SHAPES))}
    for t in range(1, STEPS + 1):
        for i, p in enumerate(params):
            p.grad = (torch.tensor(inputs[f"grad.{i}"][t - 1], dtype=torch.float64)
                      if inputs["has_grad"][t - 1, i] else None)
        if not np.isnan(lrs[t - 1]):
            opt.param_groups[0]["lr"] = float(lrs[t - 1])
        opt.step()
        if t in SNAPSHOT_STEPS:
            for i, p in enumerate(params):
                snapshots[i].append(p.detach().numpy().copy())

    out = {"options": json.dumps(OPTION_SETS[name], sort_keys=True), "lrs": lrs,
           "snapshot_steps": np.array(SNAPSHOT_STEPS),
           "versions": f"torch {torch.__version__}, transformers {transformers.__version__}"}
    for i, p in enumerate(params):
        out[f"param.{i}"] = np.stack(snapshots[i])
        for key, value in opt.state[p].items():
            if key == "RMS":                        # recomputed every step, not carried
                continue
            out[f"state.{i}.{key}"] = (np.array(value) if key == "step"
                                       else value.detach().numpy().copy())
    return out


def make(out_dir: pathlib.Path) -> pathlib.Path:
    """Write inputs.npz and one <option set>.npz per option set under out_dir/adafactor/."""
    folder = pathlib.Path(out_dir) / "adafactor"
    folder.mkdir(parents=True, exist_ok=True)
    inputs = make_inputs()
    np.savez(folder / "inputs.npz", **inputs)
    for name in OPTION_SETS:
        np.savez(folder / f"{name}.npz", **_run_transformers(name, inputs))
    return folder
