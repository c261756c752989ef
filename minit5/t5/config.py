"""`T5Config`: the fields and defaults of Hugging Face's config.json for T5, validated.

Field names are HF's, so a config.json from any T5 checkpoint reads straight in and the one
minit5 writes reads straight into transformers.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

from minit5.functional import ACTIVATIONS  # the one activation table (names as HF's ACT2FN)
from minit5.t5.adapters import check_adapter_dim
from minit5.t5.layout import shape_only_tree


@dataclass
class T5Config:
    vocab_size: int = 32128
    d_model: int = 512
    d_kv: int = 64
    d_ff: int = 2048
    num_layers: int = 6
    num_decoder_layers: int | None = None     # None: same as num_layers
    num_heads: int = 8
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.1
    layer_norm_epsilon: float = 1e-6
    initializer_factor: float = 1.0
    feed_forward_proj: str = "relu"           # "relu" (v1.0) or "gated-gelu" (v1.1, Flan), ...
    is_encoder_decoder: bool = True
    use_cache: bool = True
    pad_token_id: int = 0
    eos_token_id: int = 1
    decoder_start_token_id: int = 0
    tie_word_embeddings: bool = True
    # transformers >= 5 writes this beside tie_word_embeddings; None means "scale iff tied".
    scale_decoder_outputs: bool | None = None
    # minit5's own key (§3.5.1 adapter layers, minit5.t5.adapters): the adapters' inner size;
    # None: no adapters. Written to config.json only when set.
    adapter_dim: int | None = None
    extra: dict = field(default_factory=dict, repr=False)   # unknown config.json keys, kept

    def __post_init__(self):
        if self.num_decoder_layers is None:
            self.num_decoder_layers = self.num_layers
        self.validate()

    # ---- derived ----------------------------------------------------------------------
    @property
    def inner_dim(self) -> int:
        """num_heads * d_kv: the width of q, k, v (need not equal d_model)."""
        return self.num_heads * self.d_kv

    @property
    def is_gated_act(self) -> bool:
        return self.feed_forward_proj.split("-")[0] == "gated"

    @property
    def dense_act_fn(self) -> str:
        act = self.feed_forward_proj.split("-")[-1]
        # HF maps "gated-gelu" to the tanh approximation, for the v1.1 checkpoints.
        return "gelu_new" if self.feed_forward_proj == "gated-gelu" else act

    @property
    def scales_decoder_output(self) -> bool:
        """Multiply the decoder output by d_model**-0.5 before the head (v1.0, tied)."""
        if self.scale_decoder_outputs is not None:
            return bool(self.scale_decoder_outputs)
        return bool(self.tie_word_embeddings)

    # ---- validation -------------------------------------------------------------------
    def validate(self):
        positive = ("vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_decoder_layers",
                    "num_heads", "relative_attention_num_buckets",
                    "relative_attention_max_distance")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"T5Config.{name} must be a positive integer, got {value!r}")
        if self.adapter_dim is not None:
            self.adapter_dim = check_adapter_dim(self.adapter_dim)
        for name in ("dropout_rate", "layer_norm_epsilon", "initializer_factor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise ValueError(f"T5Config.{name} must be a finite number, got {value!r}")
        if not 0.0 <= self.dropout_rate < 1.0:
            raise ValueError(f"T5Config.dropout_rate must be in [0, 1), got {self.dropout_rate}")
        for name in ("layer_norm_epsilon", "initializer_factor"):
            if not getattr(self, name) > 0:
                raise ValueError(f"T5Config.{name} must be > 0, got {getattr(self, name)}")
        for name in ("is_encoder_decoder", "use_cache", "tie_word_embeddings",
                     "scale_decoder_outputs"):
            value = getattr(self, name)
            if not isinstance(value, bool) and not (value is None
                                                    and name == "scale_decoder_outputs"):
                raise ValueError(f"T5Config.{name} must be true or false, got {value!r}")
        if not isinstance(self.feed_forward_proj, str):
            raise ValueError(f"T5Config.feed_forward_proj must be a string such as 'relu' or "
                             f"'gated-gelu', got {self.feed_forward_proj!r}")
        parts = self.feed_forward_proj.split("-")
        if not (len(parts) == 1 or (len(parts) == 2 and parts[0] == "gated")) \
                or parts[-1] not in ACTIVATIONS:
            raise ValueError(f"T5Config.feed_forward_proj={self.feed_forward_proj!r} is not "
                             "supported: use 'ACT' or 'gated-ACT' with ACT one of "
                             f"{', '.join(ACTIVATIONS)} (T5 v1.0: 'relu'; v1.1 and Flan: "
                             "'gated-gelu')")
        if self.relative_attention_num_buckets < 4:
            raise ValueError("T5Config.relative_attention_num_buckets must be >= 4 (the "
                             "bidirectional buckets split in half twice)")
        if self.relative_attention_max_distance <= self.relative_attention_num_buckets // 2:
            raise ValueError(
                f"T5Config.relative_attention_max_distance={self.relative_attention_max_distance}"
                f" must exceed relative_attention_num_buckets // 2 = "
                f"{self.relative_attention_num_buckets // 2}: the decoder's logarithmic buckets "
                "span the distances between the two, so that range must not be empty "
                "(T5 uses 32 buckets and max_distance 128)")
        for name in ("pad_token_id", "eos_token_id", "decoder_start_token_id"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) \
                    or not 0 <= value < self.vocab_size:
                raise ValueError(f"T5Config.{name}={value!r} must be an id in "
                                 f"[0, vocab_size={self.vocab_size})")

    # ---- sizes ------------------------------------------------------------------------
    def parameter_shapes(self) -> dict:
        """name -> shape of every parameter, named as in the HF checkpoint, allocating nothing.

        Read off the encoder-decoder's own module tree (minit5.t5.layout), built with
        zero-stride placeholder weights: the names and shapes are the model's by construction.
        """
        return {name: tuple(p.shape) for name, p in shape_only_tree(self).named_parameters()}

    def num_parameters(self) -> int:
        """Exact parameter count (each tied weight once), computed from shapes alone."""
        total = 0
        for shape in self.parameter_shapes().values():
            n = 1
            for s in shape:
                n *= s
            total += n
        return total

    # ---- presets and (de)serialisation --------------------------------------------------
    @classmethod
    def preset(cls, name: str, **overrides) -> "T5Config":
        """A released model's shape: t5-small/base/large/3b/11b, t5-v1_1-*, flan-t5-*."""
        if name not in PRESETS:
            raise KeyError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values: dict) -> "T5Config":
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in values.items() if k in names}
        extra = {k: v for k, v in values.items() if k not in names}
        if "feed_forward_proj" not in known and extra.get("is_gated_act"):
            known["feed_forward_proj"] = "gated-gelu"
        return cls(**known, extra=extra)

    @classmethod
    def from_json_file(cls, path) -> "T5Config":
        try:
            with open(path, "rb") as f:
                values = json.loads(f.read().decode("utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no config.json at {path}: a checkpoint directory needs "
                                    "config.json beside model.safetensors") from None
        except UnicodeDecodeError as e:
            raise ValueError(f"{path} is not UTF-8 text (byte {e.start}); a config.json is "
                             "JSON: download or save the checkpoint again") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON ({e}); is the file truncated?") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path} holds a JSON {type(values).__name__}; a config.json holds "
                             "one object of settings ({\"d_model\": 512, ...})")
        if values.get("model_type", "t5") != "t5":
            raise ValueError(f"{path} describes a {values.get('model_type')!r} model, not T5")
        try:
            return cls.from_dict(values)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: {e}") from None

    def to_dict(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                  if f.name not in ("extra", "scale_decoder_outputs", "adapter_dim")}
        out = {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5"}
        out.update({k: v for k, v in self.extra.items()
                    if k not in ("architectures", "model_type", "scale_decoder_outputs")})
        out.update(values)
        out["dense_act_fn"] = self.dense_act_fn
        out["is_gated_act"] = self.is_gated_act
        if self.scale_decoder_outputs is not None:
            out["scale_decoder_outputs"] = self.scale_decoder_outputs
        if self.adapter_dim is not None:
            out["adapter_dim"] = self.adapter_dim
        return out

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


def _v1_0(d_model, d_ff, heads, d_kv, layers):
    return dict(d_model=d_model, d_ff=d_ff, num_heads=heads, d_kv=d_kv, num_layers=layers,
                feed_forward_proj="relu", tie_word_embeddings=True)


def _v1_1(d_model, d_ff, heads, d_kv, layers):
    return dict(d_model=d_model, d_ff=d_ff, num_heads=heads, d_kv=d_kv, num_layers=layers,
                feed_forward_proj="gated-gelu", tie_word_embeddings=False)


# The released shapes (vocab 32128 throughout): d_model, d_ff, heads, d_kv, layers per stack.
PRESETS = {
    "t5-small": _v1_0(512, 2048, 8, 64, 6),
    "t5-base": _v1_0(768, 3072, 12, 64, 12),
    "t5-large": _v1_0(1024, 4096, 16, 64, 24),
    "t5-3b": _v1_0(1024, 16384, 32, 128, 24),
    "t5-11b": _v1_0(1024, 65536, 128, 128, 24),
}
for _size, _shape in {"small": (512, 1024, 6, 64, 8), "base": (768, 2048, 12, 64, 12),
                      "large": (1024, 2816, 16, 64, 24), "xl": (2048, 5120, 32, 64, 24),
                      "xxl": (4096, 10240, 64, 64, 24)}.items():
    PRESETS[f"t5-v1_1-{_size}"] = _v1_1(*_shape)
    PRESETS[f"flan-t5-{_size}"] = _v1_1(*_shape)

# The paper's nominal sizes (Raffel et al. §3.7), for the size table.
NOMINAL_SIZES = {"t5-small": "60M", "t5-base": "220M", "t5-large": "770M", "t5-3b": "3B",
                 "t5-11b": "11B"}
