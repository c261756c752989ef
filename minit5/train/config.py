"""Typed training configurations, with presets and `--key=value` overrides.

    cfg = TrainConfig.preset("tiny", steps=200)
    cfg = apply_overrides(cfg, ["--steps=500", "--optimizer=adamw"])

Presets:
  tiny   a CPU in minutes: a 2+2-layer T5 of width 128 on 64-token inputs.
  small  a GPU: t5-small's shape (60M parameters) on 512-token inputs.
  base   the paper's baseline (§3.1): t5-base's shape, 2^19 steps of 128 x 512 tokens,
         Adafactor, inverse square root schedule with 10^4 warm-up steps, dropout 0.1, and
         the i.i.d. denoising objective of §3.1.4 (15% of tokens, each run one sentinel).
  final  `base` with span corruption (mean span 3, §3.3.4), the final T5 models' objective.
tiny and small pre-train with span corruption (shorter targets, so faster at no cost, §3.3.4).
`--objective` takes any name of `minit5.data.objectives.OBJECTIVES` (every objective of §3.3);
`--noise_density` and `--mean_noise_span_length`, when set, go to the objectives that take
them, and are refused for the others.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass

import numpy as np

from minit5.data.objectives import OBJECTIVES, make_objective
from minit5.data.tokenizer import DEFAULT_EXTRA_IDS
from minit5.t5.config import T5Config


@dataclass
class TrainConfig:
    # --- model (T5Config fields; vocab_size comes from the tokenizer) ---
    d_model: int = 128
    d_kv: int = 32
    d_ff: int = 512
    num_heads: int = 4
    num_layers: int = 2
    feed_forward_proj: str = "relu"
    dropout_rate: float = 0.1
    tie_word_embeddings: bool = True
    # --- data ---
    inputs_length: int = 64          # encoder tokens per row
    batch_size: int = 32             # rows per step
    objective: str = "span_corruption"   # a name of minit5.data.objectives.OBJECTIVES (§3.3)
    # The objective's parameters; None: the objective's own default.
    noise_density: float | None = None           # share of tokens corrupted: 0.15 (§3.1.4);
                                                 # prefix_lm: mean share in the targets, 0.5
    mean_noise_span_length: float | None = None  # span_corruption's mean span: 3.0 (§3.3.4)
    pack: bool = True                # pack several examples per row (§3.1.2)
    # --- optimisation ---
    steps: int = 300
    optimizer: str = "adafactor"     # "adafactor" | "adamw"
    schedule: str = "inverse_sqrt"   # "inverse_sqrt" | "constant" | "linear"
    lr: float = 0.01                 # peak / constant learning rate
    warmup_steps: int = 100
    clip_grad_norm: float = 0.0      # 0 = no clipping (Adafactor clips its own updates)
    # --- bookkeeping ---
    eval_every: int = 100
    eval_examples: int = 64
    checkpoint_every: int = 100
    keep_last: int = 2
    log_every: int = 10
    seed: int = 0
    dtype: str = "float32"
    device: str = "default"          # "default": MINIT5_DEVICE, else the CPU

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Every setting against its type and range; the message names the setting."""
        hints = typing.get_type_hints(TrainConfig)
        for name, hint in hints.items():
            value = getattr(self, name)
            kind, optional = _unwrap(hint)
            if value is None and optional:
                continue
            if kind is float:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
                    and math.isfinite(value)
            elif kind is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            else:
                ok = isinstance(value, kind)
            if not ok:
                what = "a finite number" if kind is float else kind.__name__
                raise ValueError(f"--{name} must be {what}, got {value!r}")
        for name in ("d_model", "d_kv", "d_ff", "num_heads", "num_layers", "batch_size",
                     "steps", "eval_every", "checkpoint_every", "keep_last", "log_every",
                     "eval_examples"):
            if getattr(self, name) <= 0:
                raise ValueError(f"--{name} must be a positive integer (>= 1), got "
                                 f"{getattr(self, name)}")
        choices = {"optimizer": ("adafactor", "adamw"),
                   "schedule": ("inverse_sqrt", "constant", "linear"),
                   "objective": tuple(OBJECTIVES),
                   "dtype": ("float32", "float64"),
                   "device": ("default", "cpu", "gpu", "auto")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"--{name}={getattr(self, name)!r}: choose one of {allowed}")
        ranges = [  # (setting, holds, the range in words)
            ("inputs_length", self.inputs_length >= 2, ">= 2 (a token and EOS)"),
            ("noise_density", self.noise_density is None or 0 < self.noise_density < 1,
             "in (0, 1); T5 uses 0.15"),
            ("mean_noise_span_length",
             self.mean_noise_span_length is None or self.mean_noise_span_length >= 1,
             ">= 1 (a span holds at least one token); T5 uses 3.0"),
            ("dropout_rate", 0 <= self.dropout_rate < 1, "in [0, 1); T5 uses 0.1"),
            ("lr", self.lr > 0, "> 0"),
            ("warmup_steps", self.warmup_steps >= 0, ">= 0"),
            ("clip_grad_norm", self.clip_grad_norm >= 0, ">= 0 (0 turns clipping off)"),
            ("seed", self.seed >= 0, ">= 0 (NumPy seeds are non-negative)"),
        ]
        for name, holds, allowed in ranges:
            if not holds:
                raise ValueError(f"--{name}={getattr(self, name)} is out of range: it must be "
                                 f"{allowed}")
        if self.schedule == "inverse_sqrt" and self.warmup_steps < 1:
            raise ValueError(f"--warmup_steps must be >= 1 with --schedule=inverse_sqrt (its "
                             f"rate is lr * sqrt(warmup / max(step, warmup))), got "
                             f"{self.warmup_steps}; or choose --schedule=constant")
        if self.schedule == "linear" and self.warmup_steps > self.steps:
            raise ValueError(f"--warmup_steps={self.warmup_steps} must be <= --steps="
                             f"{self.steps} with --schedule=linear (it decays to 0 at the end)")
        params = self.objective_params()
        for name in params:
            if name not in OBJECTIVES[self.objective].parameters:
                takes = [o for o in OBJECTIVES if name in OBJECTIVES[o].parameters]
                raise ValueError(f"--{name}={params[name]} does not apply to --objective="
                                 f"{self.objective}; leave it unset or choose an objective that "
                                 f"takes it ({', '.join(takes)})")
        self._try_objective(params)
        T5Config(d_model=self.d_model, d_kv=self.d_kv, d_ff=self.d_ff, num_heads=self.num_heads,
                 num_layers=self.num_layers, feed_forward_proj=self.feed_forward_proj,
                 dropout_rate=self.dropout_rate)          # checks feed_forward_proj

    @classmethod
    def preset(cls, name: str, **overrides) -> "TrainConfig":
        if name not in PRESETS:
            raise KeyError(f"unknown training preset {name!r}; choose one of "
                           f"{', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    def _try_objective(self, params):
        """Draw the objective once on a stand-in piece of the length the stream cuts, so a
        value the objective refuses (prefix_lm's noise_density above 0.5, more spans than
        sentinels) stops the run here, before any work."""
        objective = make_objective(self.objective, 53 + DEFAULT_EXTRA_IDS, **params)
        try:
            tokens_length, _ = objective.piece_lengths(self.inputs_length)
            objective(3 + np.arange(tokens_length) % 50, np.random.default_rng(0))  # ids 3..52
        except ValueError as e:
            raise ValueError(f"--objective={self.objective} with --inputs_length="
                             f"{self.inputs_length}: {e}") from None

    def objective_params(self) -> dict:
        """The objective's parameters this configuration sets (the unset ones are left to the
        objective's defaults), for `make_objective(self.objective, vocab_size, **params)`."""
        return {name: getattr(self, name) for name in ("noise_density", "mean_noise_span_length")
                if getattr(self, name) is not None}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS = {
    "tiny": {},
    "small": dict(d_model=512, d_kv=64, d_ff=2048, num_heads=8, num_layers=6,
                  inputs_length=512, batch_size=128, steps=2 ** 16, warmup_steps=10_000,
                  eval_every=2000, checkpoint_every=2000, device="gpu"),
    "base": dict(d_model=768, d_kv=64, d_ff=3072, num_heads=12, num_layers=12,
                 inputs_length=512, batch_size=128, steps=2 ** 19, warmup_steps=10_000,
                 eval_every=5000, checkpoint_every=5000, device="gpu",
                 objective="iid_denoising"),
}
PRESETS["final"] = {**PRESETS["base"], "objective": "span_corruption"}


def _unwrap(hint):
    """(kind, optional) of a field's type: `float | None` -> (float, True)."""
    kinds = [k for k in typing.get_args(hint) if k is not type(None)]
    if kinds and len(kinds) < len(typing.get_args(hint)):
        return kinds[0], True
    return hint, False


def _convert(name: str, raw: str, hint):
    kind, optional = _unwrap(hint)
    if optional and raw.lower() == "none":
        return None
    if kind is bool:
        lowered = raw.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"--{name}={raw}: expected true or false")
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"--{name}={raw}: expected {kind.__name__}") from None


def apply_overrides(config: TrainConfig, overrides) -> TrainConfig:
    """Apply ["--key=value", ...] (or "key=value") with type checks; unknown keys are errors."""
    hints = typing.get_type_hints(TrainConfig)
    values = config.to_dict()
    for item in overrides:
        text = item[2:] if item.startswith("--") else item
        if "=" not in text:
            raise ValueError(f"override {item!r} must look like --key=value")
        key, raw = text.split("=", 1)
        key = key.replace("-", "_")
        if key not in hints:
            close = [k for k in hints if k.startswith(key[:3])]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"unknown setting --{key}{hint}; settings: {', '.join(hints)}")
        values[key] = _convert(key, raw, hints[key])
    return TrainConfig(**values)
