"""Table 5 in miniature: simplifying the BERT-style objective (paper §3.3.2). The paper finds
all variants close: BERT-style 82.96, MASS-style 82.32, replacing corrupted spans by sentinels
83.28 (the baseline), dropping the corrupted tokens 84.44 (better on GLUE, worse on
SuperGLUE); it keeps replacing spans because its targets are short.

Rows: `bert_style`, `mass_style` (every corrupted token the mask token, the whole original as
target), `iid_denoising` (the baseline: corrupted runs replaced by sentinels, the runs as
target) and `drop_tokens` (corrupted tokens removed, the removed tokens as target), all at 15%,
under the Part II protocol of `minit5.experiments.pretraining`.

The paper's numbers are the GLUE averages of Table 5.
"""
from minit5.experiments import pretraining
from minit5.experiments.core import Experiment

VARIANTS = {
    "BERT-style": pretraining.variant(objective="bert_style"),
    "MASS-style": pretraining.variant(objective="mass_style"),
    "replace corrupted spans": pretraining.BASELINE,
    "drop corrupted tokens": pretraining.variant(objective="drop_tokens"),
}

EXPERIMENT = Experiment(
    name="table5", table="Table 5", section="§3.3.2",
    title="variants of the BERT-style objective", rows=tuple(VARIANTS),
    paper={"BERT-style": 82.96, "MASS-style": 82.32, "replace corrupted spans": 83.28, "drop corrupted tokens": 84.44},
    metric=pretraining.METRIC, cpu_minutes=9, default_seeds=3,
    config=lambda scale: pretraining.config(VARIANTS, scale), run=pretraining.run)
