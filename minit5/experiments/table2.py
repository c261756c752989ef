"""Table 2 in miniature: which architecture, with which objective? (paper §3.2.2-§3.2.4).

The paper pre-trains five architectures (Figure 4) with the same budget, each with its denoising
objective and with a language-modelling one, and fine-tunes them all the same way: the
encoder-decoder (2P parameters, cost M) is best; sharing its parameters between encoder and
decoder (P, M) costs little; halving its depth (P, M/2) costs more; a decoder-only language
model (P, M) is worst and the prefix LM (P, M) lies between. With the LM objective (for the
encoder-decoders and the prefix LM: a random split into prefix and continuation, `prefix_lm`;
for the language model: predict the whole piece, `lm`) every architecture does worse.

Here every row follows `minit5.experiments.pretraining` (one protocol for every miniature after
Table 1), with the architectures of `minit5.t5.architectures` at the tiny shape: 2+2 layers for
the encoder-decoders, 1+1 for the half-depth one, 2 decoder-only layers for the language model
and the prefix LM, which read inputs and targets as one sequence (loss on the targets only, as
in the paper's Figure 4).

The paper's numbers are the GLUE averages of Table 2; of the LM-objective rows only the
encoder-decoder's (79.56) is quoted here.
"""
from minit5.experiments import pretraining

VARIANTS = {
    "encoder-decoder, denoising": pretraining.BASELINE,
    "shared encoder-decoder, denoising": pretraining.variant("shared encoder-decoder"),
    "half-depth encoder-decoder, denoising": pretraining.variant("half-depth encoder-decoder"),
    "language model, denoising": pretraining.variant("language model"),
    "prefix LM, denoising": pretraining.variant("prefix LM"),
    "encoder-decoder, LM": pretraining.variant(objective="prefix_lm"),
    "shared encoder-decoder, LM": pretraining.variant("shared encoder-decoder", "prefix_lm"),
    "half-depth encoder-decoder, LM":
        pretraining.variant("half-depth encoder-decoder", "prefix_lm"),
    "language model, LM": pretraining.variant("language model", "lm"),
    "prefix LM, LM": pretraining.variant("prefix LM", "prefix_lm"),
}

EXPERIMENT = pretraining.experiment(
    "table2", "Table 2", "§3.2",
    "architectures, each with the denoising and the LM objective", VARIANTS,
    paper={"encoder-decoder, denoising": 83.28,
           "shared encoder-decoder, denoising": 82.81,
           "half-depth encoder-decoder, denoising": 80.88,
           "language model, denoising": 74.7,
           "prefix LM, denoising": 81.82,
           "encoder-decoder, LM": 79.56},
    # 23.9 min measured for the recorded run, which read two rows from earlier runs (the
    # baseline from table6's, "encoder-decoder, LM" from table4's prefix LM); alone, two more
    # pre-trainings and six fine-tunings: about 7 min more.
    cpu_minutes=31)
