"""`Optimizer`: what Adafactor and AdamW share.

An optimizer holds one list of parameters and, for each, a small dict of state (a step counter
and a few arrays). `step()` updates every parameter that has a gradient; `zero_grad()` clears
the gradients. There are no parameter groups: one list, one set of options, and an `lr`
attribute a schedule may change between steps.

`state_dict()` flattens the state into plain NumPy arrays and Python ints under string keys,
`"state.{i}.{name}"` with `i` the parameter's position in the list, so a checkpoint can be written
with `np.savez(path, **opt.state_dict())` and read back with `opt.load_state_dict(np.load(path))`.
The arrays are copied exactly (same dtype, same bits), so a resumed run is bit-for-bit the run
that never stopped.
"""
from __future__ import annotations

import numpy as np

from minit5.backend import get_array_module, to_numpy


def _check_params(params, owner: str) -> list:
    """The parameters as a list, each a floating-point tensor, none twice."""
    if hasattr(params, "named_parameters") and not isinstance(params, (list, tuple)):
        raise TypeError(f"{owner}: pass the parameters, not the module: "
                        f"{owner}(model.parameters(), ...)")
    params = list(params)
    if not params:
        raise ValueError(f"{owner} got an empty parameter list: pass model.parameters() of a "
                         "model that has parameters")
    seen = {}
    for i, p in enumerate(params):
        data = getattr(p, "data", None)
        if data is None or not hasattr(data, "dtype") or not hasattr(p, "grad"):
            raise TypeError(f"{owner}: parameter {i} is a {type(p).__name__}, not a Tensor with "
                            ".data and .grad; pass minit5 Parameters (model.parameters())")
        if data.dtype.kind != "f":
            raise TypeError(f"{owner}: parameter {i} has dtype {data.dtype}; only floating-point "
                            "parameters can be optimised")
        if id(p) in seen:
            raise ValueError(f"{owner}: parameter {i} is the same object as parameter "
                             f"{seen[id(p)]}; list each parameter once (a tied weight is one "
                             "parameter)")
        seen[id(p)] = i
    return params


class Optimizer:
    """Base class: a list of parameters, per-parameter state, step/zero_grad/state_dict.

    A subclass implements `_update(p, state)` (one parameter's update, reading `p.grad`) and
    `_state_shapes(p)` (the name and shape of every state array that parameter will have), which
    `load_state_dict` uses to check a checkpoint before trusting it.
    """

    def __init__(self, params):
        self.params = _check_params(params, type(self).__name__)
        self.state = [{} for _ in self.params]   # one dict per parameter, filled on its first step

    # ---- the loop a trainer calls ------------------------------------------------------
    def step(self):
        """Update every parameter whose `.grad` is set; parameters with grad None are skipped
        (their step counters do not advance). A frozen parameter (requires_grad False) never
        has a gradient, so it gets no state; if it is unfrozen later, its state starts then,
        at step 1 of its own counter."""
        for i, (p, state) in enumerate(zip(self.params, self.state)):
            if p.grad is None:
                continue
            if tuple(p.grad.shape) != tuple(p.data.shape):
                raise ValueError(f"{type(self).__name__}: parameter {i} has shape "
                                 f"{tuple(p.data.shape)} but its grad has shape "
                                 f"{tuple(p.grad.shape)}; the gradient must match the parameter")
            self._update(p, state)

    def zero_grad(self):
        """Forget every gradient (set `.grad` to None), ready for the next backward pass."""
        for p in self.params:
            p.grad = None

    def _update(self, p, state):  # pragma: no cover - every subclass overrides it
        raise TypeError(f"{type(self).__name__} must define _update()")

    def _state_shapes(self, p) -> dict:  # pragma: no cover - every subclass overrides it
        raise TypeError(f"{type(self).__name__} must define _state_shapes()")

    @staticmethod
    def _state_dtype(p):
        """States live in the gradient's precision (float32 or float64); half precision would be
        upcast to float32, as transformers does."""
        dtype = np.dtype((p.grad if p.grad is not None else p.data).dtype)
        return np.dtype(np.float32) if dtype.itemsize < 4 else dtype

    # ---- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> dict:
        """`{"state.{i}.step": int, "state.{i}.{array name}": np.ndarray, ...}` (host copies)."""
        out = {}
        for i, state in enumerate(self.state):
            for name, value in state.items():
                key = f"state.{i}.{name}"
                out[key] = int(value) if name == "step" else np.array(to_numpy(value), copy=True)
        return out

    def load_state_dict(self, state_dict):
        """Replace all state with a `state_dict()` (or what `np.load` gives back for one).

        Checks every key and shape against this optimizer's parameters and options first, and
        leaves the current state untouched if anything is wrong. Arrays go to each parameter's
        device and keep their saved dtype when it is the state dtype.
        """
        owner = type(self).__name__
        grouped = {}
        for key in state_dict.keys():
            parts = str(key).split(".")
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
                raise KeyError(f"{owner}.load_state_dict: unexpected key {key!r}; keys look like "
                               "'state.<param index>.<name>' as written by state_dict()")
            i = int(parts[1])
            if i >= len(self.params):
                raise KeyError(f"{owner}.load_state_dict: key {key!r} is for parameter {i}, but "
                               f"this optimizer has {len(self.params)} parameters; load it into "
                               "an optimizer built over the same parameter list")
            grouped.setdefault(i, {})[parts[2]] = state_dict[key]

        new_state = [{} for _ in self.params]
        for i, saved in sorted(grouped.items()):
            p = self.params[i]
            expected = self._state_shapes(p)
            want, got = set(expected) | {"step"}, set(saved)
            if want != got:
                raise KeyError(f"{owner}.load_state_dict: parameter {i} (shape "
                               f"{tuple(p.data.shape)}) needs state {sorted(want)} with these "
                               f"options, the checkpoint has {sorted(got)}; build the optimizer "
                               "with the options it was saved with")
            xp = get_array_module(p.data)
            dtype = self._state_dtype(p)
            new_state[i]["step"] = int(np.asarray(saved["step"]))
            for name, shape in expected.items():
                array = np.asarray(saved[name])
                if tuple(array.shape) != tuple(shape):
                    raise ValueError(f"{owner}.load_state_dict: state {name!r} of parameter {i} "
                                     f"has shape {tuple(array.shape)}, expected {tuple(shape)}; "
                                     "was it saved for a different model?")
                new_state[i][name] = xp.array(array, dtype=dtype, copy=True)
        self.state = new_state
