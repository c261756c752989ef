"""Table 6 in miniature: how much to corrupt (paper §3.3.3). The paper finds the rate matters
little between 10% and 25% (82.82, 83.28, 83.00) and that 50% hurts (81.27); higher rates also
make longer targets, so slower training.

Rows: the baseline objective (`iid_denoising`) at noise_density 0.10, 0.15 (the baseline), 0.25
and 0.50, under the Part II protocol of `minit5.experiments.pretraining`.

The paper's numbers are the GLUE averages of Table 6.
"""
from minit5.experiments import pretraining
from minit5.experiments.core import Experiment

VARIANTS = {
    "10%": pretraining.variant(noise_density=0.10),
    "15%": pretraining.BASELINE,
    "25%": pretraining.variant(noise_density=0.25),
    "50%": pretraining.variant(noise_density=0.50),
}

EXPERIMENT = Experiment(
    name="table6", table="Table 6", section="§3.3.3",
    title="the corruption rate of i.i.d. denoising", rows=tuple(VARIANTS),
    paper={"10%": 82.82, "15%": 83.28, "25%": 83.0, "50%": 81.27},
    metric=pretraining.METRIC, cpu_minutes=9, default_seeds=3,
    config=lambda scale: pretraining.config(VARIANTS, scale), run=pretraining.run)
