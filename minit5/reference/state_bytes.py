"""How much memory the optimizer state takes, computed from shapes alone (nothing allocated).

Adam(W) keeps two arrays the size of every weight: 2N numbers for N parameters. Adafactor keeps,
for a factored (n, m) weight, a row state of n and a column state of m numbers; for anything it
does not factor (vectors, and under T5's rule small matrices such as the relative attention
bias) one number per weight; plus, only with beta1, a full-size momentum. This is the
"sublinear memory cost" of the Adafactor paper's title (Shazeer & Stern 2018, §3), and the
reason T5 trains with Adafactor (Raffel et al. 2020, §3.1.2).

Step counters (one int per parameter tensor) are not counted.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from minit5.optim.adafactor import factored_axes

OPTIMIZERS = ("adafactor", "adam")


def _shapes(config_or_shapes) -> dict:
    """name -> shape from a dict, or from a config with a `parameter_shapes()` method."""
    if isinstance(config_or_shapes, Mapping):
        shapes = config_or_shapes
    elif callable(getattr(config_or_shapes, "parameter_shapes", None)):
        shapes = config_or_shapes.parameter_shapes()
    else:
        raise TypeError(f"expected a dict name -> shape or a config with a parameter_shapes() "
                        f"method, got {type(config_or_shapes).__name__}; e.g. "
                        "{n: p.shape for n, p in model.named_parameters()}")
    return {name: tuple(int(s) for s in shape) for name, shape in shapes.items()}


def adafactor_state_numel(shape, min_dim_size_to_factor: int = 128, beta1=None) -> int:
    """Numbers of Adafactor state for one tensor: (shape without b) + (shape without a) when
    factored over axes (a, b) (n + m for an (n, m) matrix), else prod(shape); + prod(shape)
    with momentum."""
    shape = tuple(shape)
    numel = math.prod(shape)
    axes = factored_axes(shape, min_dim_size_to_factor)
    if axes is None:
        count = numel
    else:
        a, b = axes
        count = numel // shape[b] + numel // shape[a] if numel else 0
    if beta1 is not None:
        count += numel
    return count


def optimizer_state_bytes(config_or_shapes, optimizer: str = "adafactor",
                          min_dim_size_to_factor: int = 128, dtype_bytes: int = 4,
                          beta1=None) -> int:
    """Bytes of optimizer state for a model, from its parameter shapes.

    config_or_shapes: dict name -> shape (e.g. from named_parameters()), or a config object with
        a `parameter_shapes()` method returning one.
    optimizer: "adafactor" (T5's; `min_dim_size_to_factor` and `beta1` as in `Adafactor`) or
        "adam" (Adam / AdamW: 2 numbers per weight).
    dtype_bytes: 4 for float32 state, 8 for float64.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    shapes = _shapes(config_or_shapes)
    if optimizer == "adam":
        numel = sum(2 * math.prod(shape) for shape in shapes.values())
    else:
        numel = sum(adafactor_state_numel(shape, min_dim_size_to_factor, beta1)
                    for shape in shapes.values())
    return numel * int(dtype_bytes)


class StateRow(NamedTuple):
    model: str
    n_params: int
    adam_bytes: int
    adafactor_bytes: int
    ratio: float            # adam_bytes / adafactor_bytes: how many times smaller Adafactor is


def optimizer_state_table(shapes_by_model: dict, min_dim_size_to_factor: int = 128,
                          dtype_bytes: int = 4) -> list:
    """One `StateRow` per model: {model name: {param name: shape}} -> [StateRow, ...]."""
    rows = []
    for model, shapes in shapes_by_model.items():
        shapes = _shapes(shapes)
        adam = optimizer_state_bytes(shapes, "adam", dtype_bytes=dtype_bytes)
        adafactor = optimizer_state_bytes(shapes, "adafactor", min_dim_size_to_factor,
                                          dtype_bytes)
        rows.append(StateRow(model, sum(math.prod(s) for s in shapes.values()), adam, adafactor,
                             adam / adafactor if adafactor else math.inf))
    return rows


def format_state_table(rows) -> str:
    """The rows as a plain-text table, sizes in MiB."""
    lines = [f"{'model':<16}{'params':>14}{'Adam MiB':>12}{'Adafactor MiB':>15}{'ratio':>9}"]
    for r in rows:
        lines.append(f"{r.model:<16}{r.n_params:>14,}{r.adam_bytes / 2**20:>12.1f}"
                     f"{r.adafactor_bytes / 2**20:>15.2f}{r.ratio:>9.1f}")
    return "\n".join(lines)
