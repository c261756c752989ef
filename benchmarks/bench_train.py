"""CPU: a train step (forward + backward) and a forward pass, minit5 vs transformers' T5.

Same config (d_model 256, d_ff 1024, 4 heads x d_kv 64, 4+4 layers, vocab 8192), same weights
(minit5 loads the checkpoint transformers wrote), same batch (8 x 128 input, 32 target tokens),
same process, runs alternating between the two; the reported figure is the median of the
pairwise time ratios minit5 / PyTorch. Both use float32 and the same number of threads.

    python benchmarks/bench_train.py [--repeats 15] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

CONFIG = dict(vocab_size=8192, d_model=256, d_ff=1024, num_heads=4, d_kv=64, num_layers=4,
              feed_forward_proj="relu", dropout_rate=0.0, decoder_start_token_id=0)
BATCH, INPUTS, TARGETS = 8, 128, 32


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)

    import torch
    from transformers import T5Config as HFConfig, T5ForConditionalGeneration as HFModel

    from minit5 import T5ForConditionalGeneration

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    hf = HFModel(HFConfig(**CONFIG))
    with tempfile.TemporaryDirectory() as directory:
        hf.save_pretrained(directory)
        ours = T5ForConditionalGeneration.from_pretrained(directory)
    ours.train()   # dropout_rate is 0: train mode changes nothing but is what training runs
    hf.train()

    rng = np.random.default_rng(0)
    ids = rng.integers(2, CONFIG["vocab_size"], size=(BATCH, INPUTS))
    labels = rng.integers(2, CONFIG["vocab_size"], size=(BATCH, TARGETS))
    t_ids, t_labels = torch.tensor(ids), torch.tensor(labels)

    def ours_step():
        ours.zero_grad()
        ours(input_ids=ids, labels=labels).loss.backward()

    def hf_step():
        hf.zero_grad()
        hf(input_ids=t_ids, labels=t_labels).loss.backward()

    def ours_forward():
        from minit5 import no_grad
        with no_grad():
            ours(input_ids=ids, labels=labels)

    def hf_forward():
        with torch.no_grad():
            hf(input_ids=t_ids, labels=t_labels)

    results = {}
    for name, a, b in (("train step", ours_step, hf_step), ("forward", ours_forward, hf_forward)):
        a(), b()                                       # warm-up
        pairs = [(timed(a), timed(b)) for _ in range(args.repeats)]
        ratios = [x / y for x, y in pairs]
        results[name] = (statistics.median(x for x, _ in pairs),
                         statistics.median(y for _, y in pairs), statistics.median(ratios))

    print(f"minit5 vs transformers {__import__('transformers').__version__} "
          f"(torch {torch.__version__}), {args.threads} threads, batch {BATCH}x{INPUTS} -> "
          f"{TARGETS}, median of {args.repeats} alternating runs")
    print(f"{'':<11} {'minit5 s':>9} {'torch s':>9} {'ratio':>7}")
    for name, (ours_s, hf_s, ratio) in results.items():
        print(f"{name:<11} {ours_s:>9.4f} {hf_s:>9.4f} {ratio:>7.2f}")
    return results


if __name__ == "__main__":
    main()
