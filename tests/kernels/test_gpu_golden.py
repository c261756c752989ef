"""On the GPU: the whole model against transformers' references, gradients by finite
differences, and the same results as on the CPU (all marked `gpu`: skipped without one).

The golden comparison runs twice: with the fused kernels (the default on CuPy) and with
MINIT5_KERNELS=0, where CuPy runs the composed ops exactly as NumPy does.
"""
import dataclasses

import numpy as np
import pytest

from minit5 import T5ForConditionalGeneration, backend
from minit5 import functional as F
from minit5.autograd import Tensor
from minit5.nn import Parameter
from minit5.optim import Adafactor
from minit5.testing import assert_close, grad_check
from tests.golden.test_model_golden import FIXTURES, check_against

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("use_kernels", ["1", "0"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["v1_0", "v1_1"])
def test_gpu_model_matches_transformers(monkeypatch, name, dtype, use_kernels):
    switches = dataclasses.replace(backend.SWITCHES, kernels=use_kernels == "1")
    monkeypatch.setattr(backend, "SWITCHES", switches)
    errors = check_against(FIXTURES, name, dtype, device="gpu")
    print(f"gpu {name} {dtype} kernels={use_kernels}: worst {max(errors.values()):.2e}")


def cupy_array(shape, seed=0, scale=1.0, low=None):
    import cupy
    values = np.random.default_rng(seed).standard_normal(shape) * scale
    if low is not None:
        values = np.maximum(values, low)
    return cupy.asarray(values)                                   # float64


def test_gpu_fused_ops_pass_grad_check():
    import cupy
    scores, bias = cupy_array((2, 3, 4, 5)), cupy_array((1, 3, 4, 5), seed=1)
    grad_check(F.attention_softmax, scores, bias)
    x, w = cupy_array((3, 4, 6)), cupy_array((6,), seed=2)
    grad_check(lambda x, w: F.rms_norm(x, w), x, w)
    grad_check(F.gated_gelu, x, cupy_array((3, 4, 6), seed=3))
    labels = cupy.asarray([[1, 4, -100], [0, 5, 2]])
    grad_check(lambda z: F.cross_entropy(z, labels), cupy_array((2, 3, 6), seed=4))


def test_gpu_scalars_and_numpy_operands_go_to_the_device():
    import cupy
    t = Tensor(cupy.ones(3, dtype=np.float32), requires_grad=True)
    y = (t * 0.5 + np.float32(1.0)) / 2
    assert isinstance(y.data, cupy.ndarray) and y.dtype == np.float32
    y.sum().backward()
    assert isinstance(t.grad, cupy.ndarray)
    assert_close(y, np.full(3, 0.75))


def scaled_error(actual, expected):
    """max |actual - expected| / max |expected|, as the golden tests measure."""
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))


@pytest.mark.parametrize("name", ["v1_0", "v1_1"])
def test_gpu_generation_and_training_step_match_the_cpu(name):
    ref = np.load(FIXTURES / name / "reference_float64.npz")
    runs = {}
    for device in ("cpu", "gpu"):
        model = T5ForConditionalGeneration.from_pretrained(FIXTURES / name, dtype="float64",
                                                           device=device)
        ids = model.generate(ref["input_ids"], attention_mask=ref["attention_mask"],
                             max_new_tokens=6, num_beams=2)
        start = {n: p.numpy() for n, p in model.named_parameters()}
        out = model(input_ids=ref["input_ids"], attention_mask=ref["attention_mask"],
                    labels=ref["labels"])
        out.loss.backward()
        Adafactor(model.parameters(), min_dim_size_to_factor=0).step()   # every matrix factored
        runs[device] = ids, {n: p.numpy() - start[n] for n, p in model.named_parameters()}
    assert np.array_equal(runs["cpu"][0], runs["gpu"][0]), "generated ids differ"
    for key, step in runs["cpu"][1].items():
        assert scaled_error(runs["gpu"][1][key], step) <= 1e-9, key


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpu_adafactor_step_matches_the_cpu(dtype):
    import cupy
    rng = np.random.default_rng(0)
    start = rng.standard_normal((300, 200)).astype(dtype)
    grads = [rng.standard_normal((300, 200)).astype(dtype) for _ in range(3)]
    results = []
    for to_device in (np.asarray, cupy.asarray):
        p = Parameter(to_device(start))
        optimizer = Adafactor([p])                                 # factored: both dims >= 128
        for g in grads:
            p.grad = to_device(g)
            optimizer.step()
        results.append(p.numpy().astype(np.float64) - start)
    assert scaled_error(results[1], results[0]) <= (1e-4 if dtype == "float32" else 1e-10)
