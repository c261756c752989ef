"""Rank classification under the name chapter 13, Table 13 and exercises 8.1 and 13.3 import
it by. The one implementation is `minit5.train.choice` (scoring a task's answer options) and
`minit5.train.evaluate` (every task's answers, ranked or decoded, scored by its metric): the
trainer's evaluation sits below the experiments, so rank classification lives there."""
from minit5.train.choice import (
    best_options,
    choose,
    option_log_likelihoods,
    sequence_log_likelihoods,
)
from minit5.train.evaluate import answers, evaluate

__all__ = ["answers", "best_options", "choose", "evaluate", "option_log_likelihoods",
           "sequence_log_likelihoods"]
