"""Golden fixtures for generation: ids from transformers' greedy and beam search.

Writes `out_dir/generation/<name>/` for two tiny checkpoints, each holding config.json,
model.safetensors and reference.npz (input ids and mask, the generate() settings of every case
as JSON, and the ids transformers produced for each case):

    v1_0   relu FFN, tied embeddings (the output scaled by d_model**-0.5), 2 + 2 layers
    v1_1   gated-gelu FFN, untied lm_head, num_heads * d_kv (24) != d_model (32), 2 + 1 layers

Both use a small relative_attention_max_distance, and the inputs (28 tokens) and outputs (up to
20 tokens) are longer than it, so the logarithmic position buckets are exercised in both stacks.

A freshly initialised T5 mostly repeats its last token and rarely says EOS, which would make
every search agree and every row equally long. So, before saving, the weights are reshaped
(not trained): attention logits sharpened (q, k, relative bias), sub-layer outputs (o, wo)
strengthened against the residual stream, the pad row of the output embedding damped and the
EOS row boosted. `make` checks the result is worth having: rows of different lengths, EOS
before the limit, beam search disagreeing with greedy, and every case giving the same ids in
float64 and without the cache (so no near-tie makes the fixture fragile).

transformers 5.23 quirks met here:
- `T5Config(tie_word_embeddings=False)` forces tie_word_embeddings back to True (keeping only
  "don't scale the output" as `scale_decoder_outputs`), so a fresh model ties lm_head to the
  shared embedding. The untied head is assigned afterwards and the checkpoint written by hand,
  as released v1.1 checkpoints are (tie_word_embeddings false, lm_head.weight in the file);
  transformers loads that untied (with a warning) and `make` checks it did.
- generate() sizes its key/value cache by num_layers (the encoder's depth), so a decoder deeper
  than the encoder fails; v1_1 therefore has the deeper encoder.
"""
import json
import pathlib

import numpy as np

MAX_NEW_TOKENS = 20
BATCH, INPUT_LENGTH, SHORT_ROW_LENGTH = 3, 28, 19

CASES = {   # name -> generate() settings besides max_new_tokens
    "greedy": {"num_beams": 1},
    "beams2": {"num_beams": 2},
    "beams4": {"num_beams": 4},
    "beams4_lp2_early": {"num_beams": 4, "length_penalty": 2.0, "early_stopping": True},
    # "never" gives different ids from False here: v1_0 with penalty 1, v1_1 with penalty 2.
    "beams3_never": {"num_beams": 3, "early_stopping": "never"},
    "beams3_lp2_never": {"num_beams": 3, "length_penalty": 2.0, "early_stopping": "never"},
    "beams3_lpneg1": {"num_beams": 3, "length_penalty": -1.0},
}

CHECKPOINTS = {
    "v1_0": {
        "config": dict(vocab_size=64, d_model=32, d_kv=8, d_ff=32, num_heads=4, num_layers=2,
                       num_decoder_layers=2, feed_forward_proj="relu", tie_word_embeddings=True,
                       relative_attention_num_buckets=32, relative_attention_max_distance=20),
        "seed": 1, "sublayer_scale": 4.0, "attention_scale": 4.0, "eos_scale": 3.0,
    },
    "v1_1": {
        "config": dict(vocab_size=80, d_model=32, d_kv=6, d_ff=32, num_heads=4, num_layers=2,
                       num_decoder_layers=1, feed_forward_proj="gated-gelu",
                       tie_word_embeddings=False, relative_attention_num_buckets=16,
                       relative_attention_max_distance=12),
        "seed": 2, "sublayer_scale": 4.0, "attention_scale": 4.0, "eos_scale": 2.0,
    },
}


def build_model(spec):
    """A seeded transformers T5 with the weights reshaped as the module docstring says."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(spec["seed"])
    config = T5Config(dropout_rate=0.0, decoder_start_token_id=0, pad_token_id=0,
                      eos_token_id=1, **spec["config"])
    tied = spec["config"]["tie_word_embeddings"]
    model = T5ForConditionalGeneration(config).eval()
    with torch.no_grad():
        if not tied:
            model.lm_head.weight = torch.nn.Parameter(
                torch.randn(config.vocab_size, config.d_model))
        a = spec["attention_scale"]
        for name, p in model.named_parameters():
            if name.endswith((".o.weight", ".wo.weight")):
                p.mul_(spec["sublayer_scale"])
            elif name.endswith((".q.weight", ".k.weight")):
                p.mul_(a)
            elif name.endswith("relative_attention_bias.weight"):
                p.mul_(a * a)
        head = model.shared.weight if tied else model.lm_head.weight
        head[0] *= 0.2                  # pad: rarely the best token
        head[1] *= spec["eos_scale"]    # EOS: likely enough to end some rows early
    return model


def write_checkpoint(model, directory, tied):
    """config.json + model.safetensors, with lm_head.weight only when the head is untied."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    skip = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}
    if tied:
        skip.add("lm_head.weight")
    tensors = {name: p.detach().contiguous().clone()
               for name, p in model.state_dict().items() if name not in skip}
    save_file(tensors, str(directory / "model.safetensors"), metadata={"format": "pt"})
    # Written as released checkpoints are: v1.1 says tie_word_embeddings false, and nothing
    # else; transformers 5 reads that as "untied head, no output scaling".
    config = model.config.to_dict()
    config.pop("scale_decoder_outputs", None)
    config["tie_word_embeddings"] = tied
    (directory / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def make_inputs(vocab_size, seed):
    """A padded batch: every row ends with EOS (1); row 1 is shorter, padded with 0."""
    rng = np.random.default_rng(seed)
    input_ids = rng.integers(2, vocab_size, size=(BATCH, INPUT_LENGTH), dtype=np.int64)
    attention_mask = np.ones_like(input_ids)
    input_ids[:, -1] = 1
    input_ids[1, SHORT_ROW_LENGTH - 1] = 1
    input_ids[1, SHORT_ROW_LENGTH:] = 0
    attention_mask[1, SHORT_ROW_LENGTH:] = 0
    return input_ids, attention_mask


def hf_generate(model, input_ids, attention_mask, case, use_cache=True):
    """transformers' generate with every setting explicit: plain greedy or beam search only."""
    import torch
    from transformers import GenerationConfig

    settings = dict(CASES[case])
    # A fresh GenerationConfig: its defaults switch every logits processor off (no repetition
    # penalty, no min_length, no forced tokens), leaving plain greedy or beam search.
    config = GenerationConfig(
        max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_return_sequences=1,
        num_beams=settings.get("num_beams", 1),
        length_penalty=settings.get("length_penalty", 1.0),
        early_stopping=settings.get("early_stopping", False),
        eos_token_id=1, pad_token_id=0, decoder_start_token_id=0, use_cache=use_cache)
    with torch.no_grad():
        out = model.generate(torch.from_numpy(input_ids),
                             attention_mask=torch.from_numpy(attention_mask),
                             generation_config=config)
    return out.numpy().astype(np.int64)


def _check_worth_having(name, outputs):
    """Fail loudly if a checkpoint's outputs are too uniform to test anything."""
    greedy = outputs["greedy"]
    ends = [(row == 1).any() for row in greedy[:, 1:]]
    lengths = {int(np.argmax(row == 1)) if (row == 1).any() else len(row) for row in greedy}
    differs = any(out.shape != greedy.shape or (out != greedy).any()
                  for case, out in outputs.items() if case != "greedy")
    if not (any(ends) and len(lengths) > 1 and differs):
        raise RuntimeError(f"{name}: generated ids are too uniform to be a useful fixture "
                           f"(greedy {greedy.tolist()}); change the seed or scales in "
                           "CHECKPOINTS")


def make(out_dir: pathlib.Path):
    """Write every generation fixture under out_dir/generation/ (needs torch + transformers)."""
    import torch
    from transformers import T5ForConditionalGeneration

    torch.set_num_threads(1)    # deterministic reductions, and fast enough at this size
    for index, (name, spec) in enumerate(CHECKPOINTS.items()):
        directory = pathlib.Path(out_dir) / "generation" / name
        write_checkpoint(build_model(spec), directory, spec["config"]["tie_word_embeddings"])
        # Generate from the checkpoint as transformers reads it back, to test exactly that.
        model = T5ForConditionalGeneration.from_pretrained(directory).eval()
        tied = model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()
        if tied != spec["config"]["tie_word_embeddings"]:
            raise RuntimeError(f"{name}: transformers loaded lm_head "
                               f"{'tied' if tied else 'untied'}, expected the opposite")
        model64 = T5ForConditionalGeneration.from_pretrained(directory).double().eval()

        input_ids, attention_mask = make_inputs(spec["config"]["vocab_size"], seed=100 + index)
        outputs = {}
        for case in CASES:
            ids = hf_generate(model, input_ids, attention_mask, case)
            for label, other in (("float64", hf_generate(model64, input_ids, attention_mask,
                                                         case)),
                                 ("no cache", hf_generate(model, input_ids, attention_mask,
                                                          case, use_cache=False))):
                if other.shape != ids.shape or (other != ids).any():
                    raise RuntimeError(f"{name}/{case}: transformers' {label} ids differ from "
                                       "float32 with cache (a near-tie); change the seed")
            outputs[case] = ids
        _check_worth_having(name, outputs)
        np.savez_compressed(
            directory / "reference.npz", input_ids=input_ids, attention_mask=attention_mask,
            max_new_tokens=np.int64(MAX_NEW_TOKENS), cases_json=np.array(json.dumps(CASES)),
            **{f"ids_{case}": ids for case, ids in outputs.items()})
