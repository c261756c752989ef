"""CPU: greedy and 4-beam generation, minit5 (with and without its key/value cache) vs transformers.

Same t5-small-shaped model (vocab 32128, d_model 512, d_ff 2048, 8 heads x d_kv 64, 6 + 6
layers, relu, tied; random weights built by transformers, saved, loaded into minit5), same
prompts (a batch of 4 x 64 tokens), 32 new tokens each. EOS is switched off in both (minit5:
eos_token_id=None; transformers: an EOS id outside the vocabulary), so every run generates
exactly 4 x 32 tokens; the script checks that, and reports whether all produce the same ids.
float32, the same number of threads for NumPy's BLAS and for torch. Runs alternate between
the contenders; times and ratios are medians (of pairwise ratios, for the ratios), and the
best time is shown too: on a shared machine it is the steadier figure.

    python benchmarks/bench_generate.py [--repeats 5] [--threads N]

Tokens/s counts returned tokens (batch x new tokens, for 4 beams too) over the whole generate()
call, encoder included.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

from timing import timed

CONFIG = dict(vocab_size=32128, d_model=512, d_ff=2048, num_heads=8, d_kv=64, num_layers=6,
              feed_forward_proj="relu", dropout_rate=0.0, decoder_start_token_id=0)
BATCH, INPUT_LENGTH, NEW_TOKENS, BEAMS = 4, 64, 32, 4


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="threads for both NumPy's BLAS and torch (default: all cores)")
    args = parser.parse_args(argv)
    # OpenBLAS reads its thread count when NumPy is first imported.
    if "numpy" in sys.modules and os.environ.get("OPENBLAS_NUM_THREADS") != str(args.threads):
        print("note: NumPy was imported before --threads could apply", file=sys.stderr)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)

    import numpy as np
    import torch
    import transformers
    from transformers import GenerationConfig
    from transformers import T5Config as HFConfig
    from transformers import T5ForConditionalGeneration as HFModel
    from transformers.utils import logging

    from minit5 import T5ForConditionalGeneration
    logging.disable_progress_bar()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    hf = HFModel(HFConfig(**CONFIG)).eval()
    with tempfile.TemporaryDirectory() as directory:
        hf.save_pretrained(directory)
        ours = T5ForConditionalGeneration.from_pretrained(directory)

    rng = np.random.default_rng(0)
    ids = rng.integers(2, CONFIG["vocab_size"], size=(BATCH, INPUT_LENGTH))
    ids[:, -1] = 1
    mask = np.ones_like(ids)
    t_ids, t_mask = torch.tensor(ids), torch.tensor(mask)
    unreachable_eos = CONFIG["vocab_size"]          # no logit has this index
    hf_config = GenerationConfig(max_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1,
                                 eos_token_id=unreachable_eos, pad_token_id=0,
                                 decoder_start_token_id=0, use_cache=True)

    outputs = {}

    def ours_cache():
        outputs["minit5 cache"] = ours.generate(ids, attention_mask=mask,
                                                max_new_tokens=NEW_TOKENS, eos_token_id=None)

    def ours_no_cache():
        outputs["minit5 no cache"] = ours.generate(ids, attention_mask=mask,
                                                   max_new_tokens=NEW_TOKENS, eos_token_id=None,
                                                   use_cache=False)

    def hf_generate():
        with torch.no_grad():
            outputs["transformers"] = hf.generate(t_ids, attention_mask=t_mask,
                                                  generation_config=hf_config).numpy()

    hf_beams = GenerationConfig(**{**hf_config.to_dict(), "num_beams": BEAMS})

    def ours_beams():
        outputs["minit5 4 beams"] = ours.generate(ids, attention_mask=mask, num_beams=BEAMS,
                                                  max_new_tokens=NEW_TOKENS, eos_token_id=None)

    def hf_generate_beams():
        with torch.no_grad():
            outputs["transformers 4 beams"] = hf.generate(t_ids, attention_mask=t_mask,
                                                          generation_config=hf_beams).numpy()

    contenders = {"minit5 cache": ours_cache, "minit5 no cache": ours_no_cache,
                  "transformers": hf_generate, "minit5 4 beams": ours_beams,
                  "transformers 4 beams": hf_generate_beams}
    for fn in contenders.values():
        fn()                                         # warm-up
    for name, out in outputs.items():
        assert out.shape == (BATCH, 1 + NEW_TOKENS), f"{name} generated {out.shape}"
    greedy = ("minit5 cache", "minit5 no cache", "transformers")
    same = all((outputs[name] == outputs["transformers"]).all() for name in greedy)
    same_beams = bool((outputs["minit5 4 beams"] == outputs["transformers 4 beams"]).all())

    times = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            times[name].append(timed(fn))
    seconds = {name: statistics.median(t) for name, t in times.items()}
    ratio_cache = statistics.median(a / b for a, b in zip(times["minit5 no cache"],
                                                          times["minit5 cache"]))
    ratio_hf = statistics.median(a / b for a, b in zip(times["minit5 cache"],
                                                       times["transformers"]))
    ratio_beams = statistics.median(a / b for a, b in zip(times["minit5 4 beams"],
                                                          times["transformers 4 beams"]))

    tokens = BATCH * NEW_TOKENS
    print(f"greedy and 4-beam generation, t5-small shape (random weights), "
          f"batch {BATCH} x {INPUT_LENGTH} "
          f"input tokens -> {NEW_TOKENS} new tokens, float32, {args.threads} threads for "
          f"NumPy (OpenBLAS) and torch {torch.__version__}, transformers "
          f"{transformers.__version__}, median of {args.repeats} alternating runs")
    print(f"identical greedy ids from all three: {same}; identical 4-beam ids: {same_beams}")
    print(f"{'':<20} {'median s':>9} {'tokens/s':>9} {'best s':>8}")
    for name, s in seconds.items():
        print(f"{name:<20} {s:>9.3f} {tokens / s:>9.1f} {min(times[name]):>8.3f}")
    print(f"cache speed-up (minit5 no cache / cache time): {ratio_cache:.2f}x")
    print(f"minit5 (cache) / transformers time, greedy: {ratio_hf:.2f} "
          f"(tokens/s ratio {1 / ratio_hf:.2f}x); 4 beams: {ratio_beams:.2f} "
          f"(tokens/s ratio {1 / ratio_beams:.2f}x)")
    return seconds, ratio_cache, ratio_hf, ratio_beams, same and same_beams


if __name__ == "__main__":
    main()
