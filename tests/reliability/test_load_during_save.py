"""A load racing a save of the same folder reads one checkpoint whole: never a
FileNotFoundError for a file the save's install step moved, never the old config with the new
weights. The race is made likely by slowing both sides: the saver's install moves (os.replace)
and the loader's weight reads each wait a few milliseconds."""
import multiprocessing
import os
import sys
import time

import numpy as np
import pytest

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.t5 import checkpoint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork")


def _version(k: int):
    config = T5Config(vocab_size=32, d_model=8, d_kv=4, d_ff=16, num_heads=2, num_layers=1,
                      dropout_rate=0.1 * (k + 1))      # the config tells the versions apart
    return T5ForConditionalGeneration(config, seed=k)


def _save_again_and_again(target, stop):
    real_replace = os.replace

    def slow_replace(a, b):                # a slow disk: each install move takes a while
        time.sleep(0.01)
        real_replace(a, b)
    os.replace = slow_replace
    versions = [_version(0), _version(1)]
    k = 0
    while not stop.is_set():
        versions[k % 2].save_pretrained(target)
        k += 1
        time.sleep(0.005)


def test_a_load_during_saves_reads_one_checkpoint_whole(tmp_path, monkeypatch):
    target = tmp_path / "ckpt"
    _version(0).save_pretrained(target)
    expected = {round(0.1 * (k + 1), 6): _version(k).shared.weight.data for k in (0, 1)}
    real_read = checkpoint.read_safetensors

    def slow_read(path):                   # the loader is slow too: the window stays open
        time.sleep(0.005)
        return real_read(path)
    monkeypatch.setattr(checkpoint, "read_safetensors", slow_read)
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    saver = context.Process(target=_save_again_and_again, args=(target, stop), daemon=True)
    saver.start()
    try:
        for _ in range(60):
            model = T5ForConditionalGeneration.from_pretrained(target)
            weight = expected[round(model.config.dropout_rate, 6)]
            np.testing.assert_array_equal(model.shared.weight.data, weight,
                                          err_msg="the config of one save, weights of another")
    finally:
        stop.set()
        saver.join(30)
        if saver.is_alive():
            saver.kill()
