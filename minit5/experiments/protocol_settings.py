"""The settings every miniature shares: the downstream benchmark, the vocabulary, the model's
shape and the fine-tuning, fixed by the Table 1 miniature's design (`minit5.experiments.table1`
says why each is what it is) and reused by the protocol of the later tables
(`minit5.experiments.pretraining`), which changes only the validation interval.

    BENCHMARK      the tasks and their sizes (`minit5.experiments.benchmark.Benchmark.build`)
    VOCAB_PIECES   the SentencePiece vocabulary's pieces (+100 sentinels)
    MODEL          the "tiny" preset's shape: 2+2 layers, d_model 128, 4 heads, d_ff 512, ReLU
    FINETUNE       200 steps of 16 rows at a constant 3e-3 (chosen on validation data, Table 1),
                   validation every 25 steps
    METRIC         what a miniature's `average` holds
"""
from __future__ import annotations

BENCHMARK = {"tasks": ["acceptability", "pair", "cloze choice"], "held_out_pages": 0.15,
             "split_seed": 0, "pool_fractions": [0.4, 0.2, 0.4], "train_examples": 32,
             "validation_examples": 120, "test_examples": 240}
VOCAB_PIECES = 2000
MODEL = {"d_model": 128, "d_kv": 32, "d_ff": 512, "num_heads": 4, "num_layers": 2,
         "feed_forward_proj": "relu", "dropout_rate": 0.1}
FINETUNE = {"steps": 200, "batch_size": 16, "schedule": "constant", "lr": 0.003,
            "warmup_steps": 1, "eval_every": 25}
METRIC = "mean test accuracy of the 3 tasks (0-100, chance 50); paper: GLUE average"


def pages_key(benchmark: dict) -> dict:
    """The part of the benchmark's settings that decides the pre-training pages."""
    return {k: benchmark[k] for k in ("held_out_pages", "split_seed")}
