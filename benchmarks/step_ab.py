"""A train step timed across commits: N Adafactor steps of a T5 at a bench shape, dropout 0.1,
in a process of its own, so that the same script times two checkouts (the import path picks the
commit) and nothing but the library differs.

    PYTHONPATH=CHECKOUT OPENBLAS_NUM_THREADS=1 /usr/bin/time -f %e \
        python benchmarks/step_ab.py tiny 60

Run it for the two checkouts in turn (A B A B ...) and take the median of the pairwise ratios.
Prints the last loss: two commits that train identically print the same number.
"""
import sys

import numpy as np

from minit5 import T5Config, T5ForConditionalGeneration
from minit5.optim import Adafactor

shape, steps = sys.argv[1], int(sys.argv[2])
# shape -> (model, batch, input length, target length)
shapes = {"tiny": (dict(vocab_size=2000, d_model=128, d_ff=512, num_heads=4, d_kv=32,
                        num_layers=2), 32, 64, 16),
          "bench-128": (dict(vocab_size=8192, d_model=256, d_ff=1024, num_heads=4, d_kv=64,
                             num_layers=4), 16, 128, 32)}
cfg_kwargs, batch, lin, ltg = shapes[shape]
cfg = T5Config(**cfg_kwargs, feed_forward_proj="relu", dropout_rate=0.1,
               decoder_start_token_id=0)
model = T5ForConditionalGeneration(cfg, seed=0)
opt = Adafactor(model.parameters(), lr=1e-3, relative_step=False, scale_parameter=True)
rng = np.random.default_rng(0)
ids = rng.integers(3, cfg.vocab_size, size=(batch, lin))
labels = rng.integers(3, cfg.vocab_size, size=(batch, ltg))
mask = np.ones_like(ids)
for _ in range(steps):
    loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    opt.zero_grad()
    loss.backward()
    opt.step()
print(float(loss.numpy()))
