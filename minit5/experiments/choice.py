"""Rank classification, as the book's chapters 8 and 13 and their exercises name it: the one
implementation is `minit5.train.choice` (scoring a task's answer options) and
`minit5.train.evaluate` (every task's answers, ranked or decoded, scored by its metric)."""
from minit5.train.choice import (
    best_options,
    choose,
    option_log_likelihoods,
    sequence_log_likelihoods,
)
from minit5.train.evaluate import answers, evaluate

__all__ = ["answers", "best_options", "choose", "evaluate", "option_log_likelihoods",
           "sequence_log_likelihoods"]
