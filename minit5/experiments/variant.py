"""One row of a paper-table miniature: what it changes about the protocol's baseline
(`minit5.experiments.pretraining`), as a frozen, typed value.

    Variant(architecture="encoder-decoder",  one of minit5.t5.architectures.ARCHITECTURES (Table 2)
            objective="iid_denoising",       a name of minit5.data.objectives.OBJECTIVES ...
            params={},                       ... and its parameters, e.g. noise_density=0.5
            corpus="cleaned",                "cleaned", "unfiltered" or "other domain" (Table 8)
            repeats=None,                    a subset the budget passes over this often (Table 9)
            mixture=None,                    multi-task (pre-)training, multitask.Mixture (11, 12)
            pretrain=None,                   overrides of the pre-training phase (Table 13)
            model=None,                      overrides of the model's shape (Table 13)
            pretrain_seed=None,              the pre-training's seed (Table 13's ensemble)
            finetuning=None)                 the fine-tuning method (Table 10)

`variant(...)` builds one the way a table writes its rows (an objective's parameters as keywords;
`pretrain` may change only the steps and the batch size, given at scale 1). Two rows with the
same fields are equal and hash alike, so a table may name another table's row object. The
protocol's cache keys (`pretraining.pretrain_settings`, `pretraining.finetune_settings`) are
made from the fields' effective values, not from the row's name, so rows equal in effect share
their runs.

Serialised form (`to_config`, the `variants` of a results file's `config`): the first five fields
always, each of the last five only where set, its dict-valued fields as plain dicts. A row sets
only what it changes, so a row keeps the settings it was recorded with when a field is added.
`Variant.from_config` reads that form back; `config` of the protocol writes a row's `pretrain`
resolved (the whole phase at the run's scale).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from minit5.data import objectives
from minit5.experiments.multitask import Mixture
from minit5.experiments.protocol_settings import MODEL
from minit5.t5.architectures import ARCHITECTURES
from minit5.train.finetuning_methods import check_method

CORPORA = ("cleaned", "unfiltered", "other domain")
PHASE_OVERRIDES = ("steps", "batch_size")          # what a row may change about pre-training
PHASE_KEYS = ("steps", "batch_size", "schedule", "lr", "warmup_steps", "eval_every",
              "checkpoint_every", "keep_last", "log_every")   # a resolved phase's settings
MODEL_KEYS = tuple(MODEL)                           # the shape's settings
_SCALARS = (str, int, float, bool, type(None))


class Settings(Mapping):
    """A read-only str -> JSON scalar mapping that hashes (a Variant's dict-valued fields).
    Equal to any mapping with the same items; its items keep the order given."""

    __slots__ = ("_items",)

    def __init__(self, items=(), what="settings"):
        items = dict(items)
        for name, value in items.items():
            if not isinstance(name, str) or not isinstance(value, _SCALARS):
                raise TypeError(f"{what}: {name!r}={value!r}; a setting is a name and a "
                                "string, number, bool or None")
        self._items = items

    def __getitem__(self, name):
        return self._items[name]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __hash__(self):
        return hash(frozenset(self._items.items()))

    def __repr__(self):
        return repr(self._items)


def _optional(default=None):
    """A field written to the serialised form only where it is set."""
    return field(default=default, metadata={"optional": True})


@dataclass(frozen=True)
class Variant:
    """One row's settings (see the module docstring); checked when made."""
    architecture: str = "encoder-decoder"
    objective: str = "iid_denoising"
    params: Settings = Settings()
    corpus: str = "cleaned"
    repeats: int | None = None
    mixture: Mixture | None = _optional()
    pretrain: Settings | None = _optional()
    model: Settings | None = _optional()
    pretrain_seed: int | None = _optional()
    finetuning: Settings | None = _optional()

    def __post_init__(self):
        for name in ("params", "pretrain", "model", "finetuning"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Settings):
                if not isinstance(value, Mapping):
                    raise TypeError(f"Variant.{name} must be a dict, got {value!r}")
                object.__setattr__(self, name, Settings(value, f"Variant.{name}"))
        if isinstance(self.mixture, Mapping):
            object.__setattr__(self, "mixture", Mixture(**self.mixture))
        self._check()

    def _check(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture {self.architecture!r}: choose one of "
                             f"{ARCHITECTURES}")
        if self.objective not in objectives.OBJECTIVES:
            raise ValueError(f"objective {self.objective!r}: choose one of "
                             f"{tuple(objectives.OBJECTIVES)}")
        objectives.OBJECTIVES[self.objective].check_params(self.params)
        if self.corpus not in CORPORA:
            raise ValueError(f"corpus {self.corpus!r}: choose one of {CORPORA}")
        if self.repeats is not None and not _whole(self.repeats, 1):
            raise ValueError(f"repeats must be a whole number >= 1 or None, got "
                             f"{self.repeats!r}")
        if self.pretrain is not None and not set(self.pretrain) <= set(PHASE_KEYS):
            raise ValueError(f"pretrain overrides {sorted(self.pretrain)}: a phase has only "
                             f"{PHASE_KEYS}")
        if self.model is not None and not set(self.model) <= set(MODEL_KEYS):
            raise ValueError(f"model overrides {sorted(self.model)}: the shape has only "
                             f"{MODEL_KEYS}")
        if self.pretrain_seed is not None and not _whole(self.pretrain_seed, 0):
            raise ValueError(f"pretrain_seed must be a whole number >= 0, got "
                             f"{self.pretrain_seed!r}")
        if self.mixture is not None:
            if not isinstance(self.mixture, Mixture):
                raise TypeError(f"mixture must be a multitask.Mixture (multitask.mixture(...)), "
                                f"got {self.mixture!r}")
            if self.architecture != "encoder-decoder":
                raise ValueError("mixture: multi-task rows use the encoder-decoder (the "
                                 "paper's §3.5)")
        if self.finetuning is not None:
            check_method(dict(self.finetuning))

    def to_config(self) -> dict:
        """The serialised form (JSON types only; see the module docstring)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("optional") and value is None:
                continue
            if isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, Mixture):
                value = value.to_config()
            out[f.name] = value
        return out

    @classmethod
    def from_config(cls, settings: Mapping) -> "Variant":
        """The Variant whose `to_config()` is `settings`."""
        unknown = set(settings) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"a variant has no setting {sorted(unknown)}")
        return cls(**settings)

    def make_objective(self, vocab_size: int):
        """The row's pre-training objective as `objective(piece, rng) -> (inputs, targets)`
        (`minit5.data.objectives.make_objective`), for `vocab_size` ids."""
        return objectives.make_objective(self.objective, vocab_size, **self.params)

    def replace(self, **changes) -> "Variant":
        """This row with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)


def _whole(value, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def variant(architecture="encoder-decoder", objective="iid_denoising", corpus="cleaned",
            repeats=None, mixture=None, pretrain=None, model=None, pretrain_seed=None,
            finetuning=None, **params) -> Variant:
    """A row as a table writes it: what it changes about the baseline, the objective's
    parameters as keywords; `pretrain` may change only the steps and the batch size (at
    scale 1), the rest of the phase being the protocol's."""
    if pretrain is not None and not set(pretrain) <= set(PHASE_OVERRIDES):
        raise ValueError(f"pretrain overrides {sorted(pretrain)}: a row may change only "
                         f"{PHASE_OVERRIDES} (the rest is the protocol's)")
    return Variant(architecture=architecture, objective=objective, params=params,
                   corpus=corpus, repeats=repeats, mixture=mixture, pretrain=pretrain,
                   model=model, pretrain_seed=pretrain_seed, finetuning=finetuning)


BASELINE = variant()
