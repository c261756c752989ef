"""minit5's Adafactor against transformers' trajectories (float64, relative error <= 1e-10).

The committed fixtures in fixtures/adafactor/ come from `gen_adafactor.make` (`make fixtures`);
these tests replay the stored gradients through minit5 with NumPy only. The `golden_live` test
regenerates them with torch + transformers into a temporary folder (`make golden`).
"""
import json
import math
import pathlib

import numpy as np
import pytest

from minit5.nn import Parameter
from minit5.optim import Adafactor

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "adafactor"
OPTION_SETS = ("relative_step", "fixed_lr", "warmup_init", "momentum_weight_decay",
               "scheduled_lr")
RTOL = 1e-10


def _relative_error(ours, ref) -> float:
    """max |ours - ref| / max |ref| (normwise, so entries near zero do not blow it up)."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"shape {ours.shape} != reference shape {ref.shape}"
    if ref.size == 0:
        return 0.0
    if not np.array_equal(np.isfinite(ours), np.isfinite(ref)):
        return math.inf                     # a nan or inf where the other side has none
    finite = np.isfinite(ref)
    scale = np.max(np.abs(ref[finite]), initial=0.0)
    diff = np.max(np.abs(ours[finite] - ref[finite]), initial=0.0)
    return float(diff / scale) if scale > 0 else float(diff)


def replay(folder: pathlib.Path, name: str) -> dict:
    """Run minit5's Adafactor on the stored gradients; the worst relative error per quantity."""
    if not (folder / "inputs.npz").exists():
        pytest.fail(f"no Adafactor fixtures in {folder}: run `make fixtures` (needs torch + "
                    "transformers) to write them")
    with np.load(folder / "inputs.npz") as npz:
        inputs = dict(npz)
    with np.load(folder / f"{name}.npz") as npz:
        ref = dict(npz)
    options = json.loads(str(ref["options"]))
    if "eps" in options:
        options["eps"] = tuple(options["eps"])
    n_params = sum(1 for key in inputs if key.startswith("init."))
    params = [Parameter(inputs[f"init.{i}"].copy()) for i in range(n_params)]
    opt = Adafactor(params, min_dim_size_to_factor=0, **options)   # transformers' factoring

    has_grad, lrs = inputs["has_grad"], ref["lrs"]
    snapshot_steps = [int(s) for s in ref["snapshot_steps"]]
    errors = {"params": 0.0, "state": 0.0}
    for t in range(1, len(lrs) + 1):
        for i, p in enumerate(params):
            p.grad = inputs[f"grad.{i}"][t - 1] if has_grad[t - 1, i] else None
        if not np.isnan(lrs[t - 1]):
            opt.lr = float(lrs[t - 1])
        opt.step()
        if t in snapshot_steps:
            k = snapshot_steps.index(t)
            for i, p in enumerate(params):
                assert p.data.dtype == np.float64
                errors["params"] = max(errors["params"],
                                       _relative_error(p.data, ref[f"param.{i}"][k]))

    ours = opt.state_dict()
    ref_state = {key[len("state."):]: ref[key] for key in ref if key.startswith("state.")}
    assert sorted(ours) == sorted(f"state.{key}" for key in ref_state), \
        "minit5's state names differ from transformers' (with min_dim_size_to_factor=0)"
    for key, value in ref_state.items():
        if key.endswith(".step"):
            assert ours[f"state.{key}"] == int(value), f"step count of {key} differs"
        else:
            errors["state"] = max(errors["state"], _relative_error(ours[f"state.{key}"], value))
    return errors


@pytest.mark.parametrize("name", OPTION_SETS)
def test_adafactor_matches_transformers(name):
    errors = replay(FIXTURES, name)
    assert errors["params"] <= RTOL and errors["state"] <= RTOL, (
        f"{name}: worst relative error vs transformers: parameters {errors['params']:.3e}, "
        f"state {errors['state']:.3e} (allowed {RTOL:g}). Check the order of the update: "
        "scale, clip, lr, momentum, weight decay, subtract")


@pytest.mark.golden_live
def test_adafactor_matches_transformers_live(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tests.golden import gen_adafactor

    folder = gen_adafactor.make(tmp_path)
    assert tuple(gen_adafactor.OPTION_SETS) == OPTION_SETS
    report = {}
    for name in OPTION_SETS:
        errors = replay(folder, name)
        report[name] = errors
        with np.load(folder / f"{name}.npz") as live, \
                np.load(FIXTURES / f"{name}.npz") as committed:
            drift = max(_relative_error(committed[k], live[k]) for k in live.files
                        if k.startswith("param."))
        assert drift <= RTOL, (f"{name}: the committed fixture differs from transformers' live "
                               f"result by {drift:.3e}; regenerate with `make fixtures`")
    worst = {name: max(e.values()) for name, e in report.items()}
    assert max(worst.values()) <= RTOL, f"worst relative error per option set: {worst}"
