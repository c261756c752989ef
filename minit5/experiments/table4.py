"""Table 4 in miniature: prefix language modelling vs BERT-style denoising vs deshuffling
(paper §3.3.1, Table 3's first rows). The paper finds the denoising (BERT-style) objective
best, the prefix LM a little behind and deshuffling far behind.

Each row is the encoder-decoder pre-trained with one objective of `minit5.data.objectives`
(`prefix_lm`, `bert_style`: 15% of the tokens corrupted, 90% of those the mask token and 10% a
random token, the whole original as target; `deshuffle`), under the Part II protocol of
`minit5.experiments.pretraining`.

The paper's numbers are the GLUE averages of Table 4.
"""
from minit5.experiments import pretraining
from minit5.experiments.core import Experiment

VARIANTS = {
    "prefix LM": pretraining.variant(objective="prefix_lm"),
    "BERT-style": pretraining.variant(objective="bert_style"),
    "deshuffling": pretraining.variant(objective="deshuffle"),
}

EXPERIMENT = Experiment(
    name="table4", table="Table 4", section="§3.3.1",
    title="high-level objectives: prefix LM, BERT-style, deshuffling", rows=tuple(VARIANTS),
    paper={"prefix LM": 80.69, "BERT-style": 82.96, "deshuffling": 73.17},
    metric=pretraining.METRIC, cpu_minutes=7, default_seeds=3,
    config=lambda scale: pretraining.config(VARIANTS, scale), run=pretraining.run)
