"""A GPU training step makes no device-to-host transfer and copies nothing large to the device
(marker `gpu`: skipped without one).

One step as the trainer makes it (minit5.train.Trainer.train_step: dropout masks from the
step's Generator, forward, backward, gradient clipping, Adafactor) runs under
`cupyx.allow_synchronize(False)`, which makes CuPy raise DeviceSynchronized on a transfer that
waits for the GPU (`.get()`, float() of a device array, cupy.asnumpy); calls of
`backend.to_numpy` through the module are counted too. Host-to-device copies are counted
through `cupy.asarray`: the batch's ids and small scalars are expected, a dropout mask or a
bucket table is not, so none may be bigger than the batch's largest id array.
"""
import numpy as np
import pytest

from minit5 import backend
from minit5.functional import DropoutMasks
from minit5.optim import Adafactor, clip_grad_norm
from minit5.t5 import T5Config, T5ForConditionalGeneration

pytestmark = pytest.mark.gpu


def test_a_gpu_step_waits_for_nothing_and_copies_only_the_batch(monkeypatch):
    import cupy
    import cupyx
    config = T5Config(vocab_size=128, d_model=64, d_kv=16, d_ff=128, num_heads=4, num_layers=2,
                      dropout_rate=0.1, feed_forward_proj="gated-gelu")
    model = T5ForConditionalGeneration(config, seed=0, device="gpu")
    optimizer = Adafactor(model.parameters(), lr=1e-3, relative_step=False)
    rng = np.random.default_rng(0)
    batch = {"input_ids": rng.integers(2, 128, (4, 24)), "labels": rng.integers(2, 128, (4, 9))}

    def step(number):
        model.train()
        model.set_dropout_rng(DropoutMasks(np.random.default_rng([0, number])))
        model.zero_grad()
        loss = model(**batch).loss
        loss.backward()
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()
        return loss.data

    step(0)                                    # compiles the kernels, fills the caches
    cupy.cuda.Device().synchronize()
    to_host, to_device = [], []
    real_to_numpy, real_asarray = backend.to_numpy, cupy.asarray
    monkeypatch.setattr(backend, "to_numpy",
                        lambda a: to_host.append(np.shape(a)) or real_to_numpy(a))

    def counted_asarray(a, *args, **kwargs):
        if not isinstance(a, cupy.ndarray):
            to_device.append(np.asarray(a).nbytes)
        return real_asarray(a, *args, **kwargs)

    monkeypatch.setattr(cupy, "asarray", counted_asarray)
    with cupyx.allow_synchronize(False):
        loss = step(1)
    monkeypatch.undo()
    assert to_host == [], f"device-to-host copies in a step: {to_host}"
    largest = max(a.astype(np.int64).nbytes for a in batch.values())
    assert to_device and max(to_device) <= largest, f"host-to-device copies: {to_device}"
    assert np.isfinite(float(loss))
