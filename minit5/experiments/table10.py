"""Table 10 in miniature: fine-tuning methods (paper §3.5.1). The paper fine-tunes its baseline
pre-trained model three ways: all parameters (83.28 GLUE average), adapter layers of inner
size d = 32, 128, 512, 2048 with the rest frozen (80.52, 81.51, 81.54, 82.62; the printed
Table 10 repeats d = 128's row for d = 2048, whose 82.62 is from Table 16), and gradual
unfreezing (82.50). Its reading: small adapters suffice for low-resource tasks, while tasks
with much data need a large d; gradual unfreezing loses a little on every task, though it
speeds fine-tuning up (the frozen layers need no gradients).

Rows, under the protocol of the miniatures (`minit5.experiments.pretraining`; decided before any
result): one pre-trained model for every row, the baseline's (400 steps of i.i.d. denoising,
the `pretraining.BASELINE` row, cached), and only the fine-tuning method changes
(`minit5.train.finetuning_methods`, the row's `finetuning` setting):
  all parameters       the protocol's fine-tuning itself (the same runs as every table's ★ row)
  adapters d=32 ...    `minit5.t5.adapters`: an adapter after every FFN sub-layer of both stacks,
  adapters d=2048      only the adapters and the layer norms train (the adapters drawn from the
                       fine-tuning seed, `wo` zero so the model starts as pre-trained)
  gradual unfreezing   `minit5.train.unfreezing`: the tiny model has 2 blocks per stack, so 2
                       episodes of 100 steps: the top blocks (with the final layer norms and the
                       shared embedding) first, then everything
The same steps (200 of 16 rows), the same constant learning rate 3e-3 and the same validation
(every 50 steps, best checkpoint scored on test) for every row: no per-row tuning. The adapter
sizes are the paper's own numbers, so relative to the tiny model's d_model of 128 (d_ff 512)
they are larger than the paper's relative to its 768 (3072): d = 32 is a quarter of d_model
here, 1/24 there, and the adapters add 1,024 d weights (32,768 for d = 32; 2,097,152 for
d = 2048, almost twice the 1.19M of the pre-trained model).

A property of this set-up, noted before the run: the protocol's optimizer, Adafactor with
T5's parameter-scale rule, sizes each weight's step as 3e-3 x max(1e-3, RMS(weight)), and an
adapter's `wo` starts at zero, so each of its steps has RMS at most 3e-6 and after the 200
steps RMS(wo) <= 6e-4 (still under the 1e-3 floor), while the layer norms, which start at 1,
move at the full rate. How far the adapters can change the model is bounded by that (a wider
adapter sums more such terms). The design fixes the optimizer, the learning rate and the zero
start, so the rows run as they are, and the outcome is read with this in mind.

The paper's numbers are the GLUE averages of Table 10.
"""
from minit5.experiments import pretraining
from minit5.train.finetuning_methods import finetuning_method

ADAPTER_DIMS = (32, 128, 512, 2048)

VARIANTS = {
    "all parameters": pretraining.BASELINE,
    **{f"adapters d={d}": pretraining.variant(finetuning=finetuning_method("adapters", d))
       for d in ADAPTER_DIMS},
    "gradual unfreezing": pretraining.variant(
        finetuning=finetuning_method("gradual unfreezing")),
}

EXPERIMENT = pretraining.experiment(
    "table10", "Table 10", "§3.5.1", "fine-tuning methods", VARIANTS,
    paper={"all parameters": 83.28,
           "adapters d=32": 80.52,
           "adapters d=128": 81.51,
           "adapters d=512": 81.54,
           "adapters d=2048": 82.62,
           "gradual unfreezing": 82.50},
    # The recorded run: 25.3 min of wall time sharing the 2 cores with two other experiments,
    # 15.6 CPU minutes for its one process (the baseline's pre-training and seed-0 fine-tuning
    # came from the cache); alone on a core, about 16 min.
    cpu_minutes=16)
