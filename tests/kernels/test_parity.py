"""The CPU and the GPU agree on what the fused ops accept, save and draw.

- A cross-entropy label outside [0, V) that is not ignore_index is a ValueError on every device
  (NumPy would otherwise wrap -1 to the last class), checked by one function.
- The model's path skips the checks it does at its boundary (validated=True) and keeps the
  token count on the device, so no step waits on the GPU for them.
- Dropout's masks depend only on the caller's Generator: on a CPU they are its draws, on a GPU
  they are drawn on the device from a CuPy Generator seeded from it (functional.DropoutMasks):
  one seed, one mask per device, the same distribution on both.
- The model runs one Function per fused op on both devices, saving the same state.
The CuPy halves are marked `gpu` and skip without one.
"""
import numpy as np
import pytest

from minit5 import functional as F
from minit5.autograd import Tensor
from minit5.backend import get_array_module, to_numpy

DEVICES = ["cpu", pytest.param("gpu", marks=pytest.mark.gpu)]


def on(device, array):
    if device == "cpu":
        return np.asarray(array)
    import cupy
    return cupy.asarray(array)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("label", [-1, 5, 7, -99])
def test_cross_entropy_label_out_of_range_is_a_value_error(device, label):
    logits = Tensor(on(device, np.zeros((2, 5))), requires_grad=True)
    labels = on(device, np.array([label, 2]))
    with pytest.raises(ValueError, match=rf"label {label} at position \(0,\) is outside "
                                         r"\[0, 5\) and is not ignore_index=-100"):
        F.cross_entropy(logits, labels)


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_accepts_every_class_and_the_ignore_index(device):
    logits = on(device, np.zeros((2, 3, 4)))
    labels = on(device, np.array([[0, 3, -100], [1, 2, -100]]))
    loss = F.cross_entropy(Tensor(logits), labels)
    assert float(to_numpy(loss.data)) == pytest.approx(np.log(4))
    custom = on(device, np.array([[0, 3, 7], [1, 2, 7]]))        # another ignore_index
    assert float(to_numpy(F.cross_entropy(Tensor(logits), custom, ignore_index=7).data)) == \
        pytest.approx(np.log(4))
    with pytest.raises(ValueError, match="label -100 .* ignore_index=7"):
        F.cross_entropy(Tensor(logits), labels, ignore_index=7)


def test_cross_entropy_refuses_float_labels():
    with pytest.raises(TypeError, match="integer class ids"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0.0, 1.0]))


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_keeps_the_count_on_the_device(device):
    logits = Tensor(on(device, np.random.default_rng(0).standard_normal((3, 4))),
                    requires_grad=True)
    labels = on(device, np.array([1, -100, 3]))
    loss = F.cross_entropy(logits, labels, validated=True)
    count = loss.creator.saved[-1]
    assert get_array_module(count) is get_array_module(logits.data) and count.ndim == 0
    assert float(to_numpy(count)) == 2
    loss.backward()
    assert get_array_module(logits.grad) is get_array_module(logits.data)


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_with_nothing_counted_is_nan_with_zero_gradient(device):
    logits = Tensor(on(device, np.ones((2, 3))), requires_grad=True)
    loss = F.cross_entropy(logits, on(device, np.array([-100, -100])))
    assert np.isnan(float(to_numpy(loss.data)))
    loss.backward()
    assert not to_numpy(logits.grad).any()


def test_embedding_checks_ids_unless_validated():
    weight = Tensor(np.eye(3), requires_grad=True)
    with pytest.raises(IndexError, match=r"must lie in \[0, 3\), got values from -1 to 1"):
        F.embedding(weight, np.array([-1, 1]))
    with pytest.raises(TypeError, match="must be integers"):
        F.embedding(weight, np.array([0.0]))
    picked = F.embedding(weight, np.array([2, 0]), validated=True)
    assert np.array_equal(picked.data, np.eye(3)[[2, 0]])


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_mask_depends_only_on_the_generator(device):
    x = Tensor(on(device, np.ones((4, 50))))
    first = to_numpy(F.dropout(x, 0.3, np.random.default_rng(5)).data)
    again = to_numpy(F.dropout(x, 0.3, np.random.default_rng(5)).data)
    other = to_numpy(F.dropout(x, 0.3, np.random.default_rng(6)).data)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert set(np.unique(first)) <= {0.0, np.float64(1 / 0.7)}


@pytest.mark.gpu
def test_dropout_on_the_gpu_keeps_the_cpus_distribution_not_its_bits():
    """Same Generator seed: the GPU repeats its own mask, keeps the same fraction as the CPU,
    and scales the kept elements by the same 1 / (1 - p)."""
    import cupy
    x = np.ones((8, 64, 128), dtype=np.float32)
    cpu = F.dropout(Tensor(x), 0.1, np.random.default_rng(42)).numpy()
    gpu = F.dropout(Tensor(cupy.asarray(x)), 0.1, np.random.default_rng(42))
    again = F.dropout(Tensor(cupy.asarray(x)), 0.1, np.random.default_rng(42))
    assert isinstance(gpu.data, cupy.ndarray)
    assert np.array_equal(gpu.numpy(), again.numpy())
    assert set(np.unique(gpu.numpy())) == set(np.unique(cpu)) == {0.0, np.float32(1 / 0.9)}
    assert abs((gpu.numpy() == 0).mean() - (cpu == 0).mean()) < 0.01


def test_dropout_needs_a_generator():
    with pytest.raises(ValueError, match="explicit numpy Generator"):
        F.dropout(Tensor(np.ones(3)), 0.5, rng=None)
    with pytest.raises(ValueError, match="explicit numpy Generator.*int"):
        F.dropout(Tensor(np.ones(3)), 0.5, rng=0)


@pytest.mark.parametrize("device", DEVICES)
def test_one_function_per_fused_op_on_every_device(device):
    rng = np.random.default_rng(1)
    x = Tensor(on(device, rng.standard_normal((2, 3, 4))), requires_grad=True)
    w = Tensor(on(device, rng.standard_normal(4)), requires_grad=True)
    bias = Tensor(on(device, rng.standard_normal((1, 3, 4))), requires_grad=True)
    made = {F.RMSNorm: F.rms_norm(x, w), F.GatedGelu: F.gated_gelu(x, x),
            F.AttentionSoftmax: F.attention_softmax(x, bias),
            F.CrossEntropy: F.cross_entropy(x, on(device, np.zeros((2, 3), dtype=np.int64)))}
    for cls, out in made.items():
        assert type(out.creator) is cls
    norm = made[F.RMSNorm].creator
    assert [a.shape for a in norm.saved] == [(2, 3, 4), (4,), (2, 3)]   # x, weight, 1/rms
