"""Golden references for the model, written by transformers (needs torch + transformers).

Two small checkpoints cover both T5 generations:
  v1_0: relu FFN, tied head with d_model**-0.5 scaling, inner == d_model.
  v1_1: gated-gelu FFN, untied lm_head, num_heads * d_kv != d_model, more decoder layers.
Both use relative_attention_max_distance 20 with 30-token inputs, a padded batch and -100
labels. For each: the encoder output, logits, loss and every parameter's gradient, in float64
and in float32.

One deliberate difference, for float64 only: transformers computes the layer-norm variance in
float32 whatever the model's dtype (the cast exists to protect float16/bfloat16). In a float64
model that injects float32 rounding (~1e-7) which no float64 implementation could reproduce, so
for the float64 references the variance is accumulated in float64 ("at least float32", which is
what minit5 does). The float32 references use transformers unchanged.
"""
from __future__ import annotations

import contextlib
import json
import pathlib

import numpy as np

CONFIGS = {
    "v1_0": dict(vocab_size=96, d_model=32, d_kv=8, d_ff=64, num_heads=4, num_layers=2,
                 feed_forward_proj="relu", tie_word_embeddings=True),
    "v1_1": dict(vocab_size=96, d_model=32, d_kv=12, d_ff=48, num_heads=3, num_layers=2,
                 num_decoder_layers=3, feed_forward_proj="gated-gelu",
                 tie_word_embeddings=False),
}
COMMON = dict(relative_attention_num_buckets=8, relative_attention_max_distance=20,
              dropout_rate=0.0)


def batch():
    """Two inputs of 30 tokens (the second padded after 21), labels with -100 at the end."""
    rng = np.random.default_rng(1234)
    input_ids = rng.integers(2, 96, size=(2, 30))
    attention_mask = np.ones_like(input_ids)
    input_ids[1, 21:] = 0
    attention_mask[1, 21:] = 0
    labels = rng.integers(2, 96, size=(2, 9))
    labels[0, 7:] = -100
    return input_ids.astype(np.int64), attention_mask.astype(np.int64), labels.astype(np.int64)


@contextlib.contextmanager
def float64_layer_norm_variance():
    """Accumulate T5LayerNorm's variance in at least float32 instead of exactly float32."""
    import torch
    from transformers.models.t5 import modeling_t5

    original = modeling_t5.T5LayerNorm.forward

    def forward(self, hidden_states):
        acc = torch.promote_types(hidden_states.dtype, torch.float32)
        variance = hidden_states.to(acc).pow(2).mean(-1, keepdim=True)
        return self.weight * (hidden_states * torch.rsqrt(variance + self.variance_epsilon))

    modeling_t5.T5LayerNorm.forward = forward
    try:
        yield
    finally:
        modeling_t5.T5LayerNorm.forward = original


def write_checkpoint(name, out_dir: pathlib.Path, seed=0):
    """Build a randomly initialised HF model and write it as an HF checkpoint directory.

    transformers 5 ties lm_head to shared at construction even for tie_word_embeddings=False,
    so the untied model gets its own head here, and the directory is written by hand (the
    loader then keeps lm_head separate, as for real v1.1 checkpoints).
    """
    import torch
    from safetensors.torch import save_file
    from transformers import T5Config, T5ForConditionalGeneration

    values = {**CONFIGS[name], **COMMON}
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(T5Config(**values)).double()
    state = {}
    for key, param in model.named_parameters():   # each tied weight once: shared.weight
        state[key] = param.detach().clone().contiguous()
    if not values["tie_word_embeddings"]:
        state["lm_head.weight"] = torch.randn(values["vocab_size"], values["d_model"],
                                              dtype=torch.float64)
    directory = out_dir / name
    directory.mkdir(parents=True, exist_ok=True)
    save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
    config = {"architectures": ["T5ForConditionalGeneration"], "model_type": "t5", **values,
              "decoder_start_token_id": 0, "pad_token_id": 0, "eos_token_id": 1}
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return directory


def reference_outputs(directory, dtype):
    """Run the HF model from `directory` in `dtype` on `batch()`: outputs and gradients."""
    import torch
    from transformers import T5ForConditionalGeneration

    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    model = T5ForConditionalGeneration.from_pretrained(directory, dtype=torch_dtype).eval()
    input_ids, attention_mask, labels = (torch.tensor(a) for a in batch())
    guard = float64_layer_norm_variance() if dtype == "float64" else contextlib.nullcontext()
    with guard:
        out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
        out.loss.backward()
    result = {"encoder_last_hidden_state": out.encoder_last_hidden_state.detach().numpy(),
              "logits": out.logits.detach().numpy(),
              "loss": out.loss.detach().numpy()}
    for key, param in model.named_parameters():
        if param.grad is not None:
            result[f"grad/{key}"] = param.grad.numpy()
    return result


def bucket_table():
    """HF's buckets for key_pos - query_pos in [-300, 300], both directions, two settings."""
    import torch
    from transformers.models.t5.modeling_t5 import T5Attention

    rp = torch.arange(-300, 301)
    table = {"relative_position": rp.numpy()}
    for bidirectional in (True, False):
        for buckets, distance in ((32, 128), (8, 20)):
            key = f"{'bi' if bidirectional else 'causal'}_{buckets}_{distance}"
            table[key] = T5Attention._relative_position_bucket(
                rp, bidirectional=bidirectional, num_buckets=buckets,
                max_distance=distance).numpy()
    return table


def make(out_dir: pathlib.Path):
    import transformers

    root = pathlib.Path(out_dir) / "model"
    root.mkdir(parents=True, exist_ok=True)
    input_ids, attention_mask, labels = batch()
    for name in CONFIGS:
        directory = write_checkpoint(name, root)
        for dtype in ("float64", "float32"):
            np.savez_compressed(root / name / f"reference_{dtype}.npz",
                                input_ids=input_ids, attention_mask=attention_mask,
                                labels=labels, **reference_outputs(directory, dtype))
    np.savez_compressed(root / "buckets.npz", **bucket_table())
    (root / "VERSION").write_text(f"transformers {transformers.__version__}\n")
