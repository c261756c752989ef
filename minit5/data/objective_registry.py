"""The record behind `minit5.data.objectives.OBJECTIVES`: one pre-training objective, called
one way.

The objective functions keep the signatures that read best on their own (a sentinel objective
needs the vocabulary size, `lm` needs no randomness):

    span_corruption(tokens, vocab_size, rng, noise_density=0.15, ...)
    prefix_lm(tokens, rng, eos_id=1, noise_density=0.5)
    lm(tokens, eos_id=1)

An `Objective` reads which of (tokens, vocab_size, rng) its function takes, and its
parameters with their defaults, from the function's signature, so nothing about a function is
written twice. `Objective.bind(vocab_size, **params)` gives a `BoundObjective`, the one
signature every caller uses (`minit5 train`, the stream, the experiments):

    objective(tokens, rng) -> (inputs, targets)

It passes exactly the parameters it was given on to the function, so its pairs are the
function's own, bit for bit. It also knows how long a piece of raw text should be to fill
`inputs_length` encoder positions (`piece_lengths`), which depends on the objective.
"""
from __future__ import annotations

import inspect
import operator
from dataclasses import dataclass
from typing import Callable

# What an objective function may take before its parameters (the arguments with no default).
LEADING_ARGUMENTS = (("tokens",), ("tokens", "rng"), ("tokens", "vocab_size", "rng"))


def whole_piece_lengths(inputs_length: int, params: dict) -> tuple[int, int]:
    """(tokens_length, targets_length) for an objective whose inputs are at most the piece plus
    EOS: pieces of inputs_length - 1 tokens, targets as long as the inputs. Every objective of
    §3.3 but span corruption writes at most one id per token on each side, plus EOS."""
    return inputs_length - 1, inputs_length


@dataclass(frozen=True)
class Objective:
    """One objective: its name, its function, which leading arguments the function takes
    (`arguments`, one of LEADING_ARGUMENTS), its parameters with their defaults, one line
    saying what it does (with the paper's section), and the rule
    `lengths(inputs_length, params) -> (tokens_length, targets_length)`."""
    name: str
    function: Callable
    arguments: tuple[str, ...]
    defaults: tuple[tuple[str, object], ...]     # ((parameter, default), ...) in order
    description: str
    lengths: Callable[[int, dict], tuple[int, int]] = whole_piece_lengths

    @classmethod
    def of(cls, function: Callable, description: str,
           lengths: Callable[[int, dict], tuple[int, int]] = whole_piece_lengths,
           name: str | None = None) -> "Objective":
        """The record of `function`, read from its signature: the arguments without a default
        must be `tokens`, then optionally `vocab_size`, then optionally `rng`; the rest are its
        parameters."""
        arguments, defaults = [], []
        for p in inspect.signature(function).parameters.values():
            if p.default is inspect.Parameter.empty:
                arguments.append(p.name)
            else:
                defaults.append((p.name, p.default))
        if tuple(arguments) not in LEADING_ARGUMENTS:
            raise TypeError(f"{function.__name__}{inspect.signature(function)}: an objective "
                            f"takes (tokens[, vocab_size][, rng], parameter=default, ...), with a "
                            f"default for every parameter")
        return cls(name or function.__name__, function, tuple(arguments), tuple(defaults),
                   description, lengths)

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.defaults)

    def check_params(self, params: dict) -> dict:
        """`params` as a dict, or a ValueError naming the first one this objective does not
        take and the ones it does."""
        for key in params:
            if key not in self.parameters:
                raise ValueError(f"objective {self.name!r} takes no parameter {key!r}; its "
                                 f"parameters are {', '.join(self.parameters) or 'none'}")
        return dict(params)

    def bind(self, vocab_size: int, **params) -> "BoundObjective":
        """The objective as `objective(tokens, rng) -> (inputs, targets)` for a vocabulary of
        `vocab_size` ids (sentinels included), with `params` over its defaults."""
        try:
            size = operator.index(vocab_size)
        except TypeError:
            size = 0
        if isinstance(vocab_size, bool) or size < 1:
            raise ValueError(f"make_objective({self.name!r}): vocab_size must be a positive "
                             f"integer (the tokenizer's vocab_size, sentinels included), got "
                             f"{vocab_size!r}")
        return BoundObjective(self, vocab_size, tuple(self.check_params(params).items()))


@dataclass(frozen=True, repr=False)
class BoundObjective:
    """An objective with its vocabulary size and parameters fixed: call it as
    `objective(tokens, rng)`. A frozen record of plain values, so it pickles (worker
    processes) and prints what it is."""
    objective: Objective
    vocab_size: int
    params: tuple[tuple[str, object], ...]      # the parameters given, not the defaults

    @property
    def name(self) -> str:
        return self.objective.name

    def __repr__(self):
        params = "".join(f", {key}={value!r}" for key, value in self.params)
        return f"make_objective({self.name!r}, {self.vocab_size!r}{params})"

    def __call__(self, tokens, rng):
        given = {"tokens": tokens, "vocab_size": self.vocab_size, "rng": rng}
        leading = [given[name] for name in self.objective.arguments]
        return self.objective.function(*leading, **dict(self.params))

    def piece_lengths(self, inputs_length: int) -> tuple[int, int]:
        """(tokens_length, targets_length): the raw piece length whose inputs fill
        `inputs_length` positions, and the longest targets such a piece gives."""
        settings = {**dict(self.objective.defaults), **dict(self.params)}
        return self.objective.lengths(int(inputs_length), settings)
