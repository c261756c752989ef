"""Pilot (issue 27's premise probe): does a tiny T5 pre-trained on the generated world
(`minit5.data.world`) know the nouns' properties before any fine-tuning, and does that rise with
the tokens it has read?

Probe, no fine-tuning: for each probed noun, the model scores every option as the target of a
span-corruption example whose one masked span is the answer ("A wug lives in the <X>." ->
"<X> marsh <Y>"), and its answer is the likeliest option:
  habitat   among all 24 places (chance 1/24; its category's 4 places: 1/4),
  category  the category of the likeliest of the 30 verbs in "The wug <X>." (chance 1/6),
  plural    among the noun's 4 possible plural forms in "One wug V and two <X> V." (chance 1/4,
            the commonest class 55%).
The same probe of the untrained model is the control. Nouns are probed in frequency bands.

    OPENBLAS_NUM_THREADS=1 python experiments/pilots/world_probe.py --out runs/pilots/world
Resumable: each checkpoint's probe is written to OUT/probe.jsonl as it finishes.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np
from world import CATEGORIES, PLURAL_SUFFIXES, World  # experiments/pilots/world.py

from minit5.autograd import no_grad
from minit5.data.batching import collate
from minit5.data.objectives import noise_span_to_unique_sentinel, span_corruption
from minit5.data.tokenizer import EOS_ID, Tokenizer, train_tokenizer
from minit5.io.atomic_file import write_text
from minit5.optim import Adafactor
from minit5.optim.schedules import inverse_sqrt
from minit5.t5 import T5Config, T5ForConditionalGeneration

PLACES = [p for _, _, places in CATEGORIES.values() for p in places]
VERBS = [(v, c) for c, (verbs, _, _) in CATEGORIES.items() for v in verbs]


def pieces(tokenizer, documents, length):
    ids = np.concatenate([np.asarray(tokenizer.encode(d)) for d in documents])   # each ends in EOS
    n = len(ids) // length
    return ids[: n * length].reshape(n, length)


def masked_example(tokenizer, before: str, answer: str, after: str):
    """(inputs, targets) of one span-corruption example whose one noise span is `answer`."""
    def encode(text):
        return tokenizer.encode(text, add_eos=False)      # one EOS, at the end, below
    a = encode(before)
    ab = encode(f"{before} {answer}")
    tokens = np.array(encode(f"{before} {answer}{after}"))
    if ab[:len(a)] != a or list(tokens[:len(ab)]) != ab:      # pieces cross the boundaries
        b, c = encode(answer), encode(after)
        tokens, ab = np.array(a + b + c), a + b
    mask = np.zeros(len(tokens), bool)
    mask[len(a): len(ab)] = True
    V = tokenizer.vocab_size
    inputs = noise_span_to_unique_sentinel(tokens, mask, V)
    targets = noise_span_to_unique_sentinel(tokens, ~mask, V)
    return np.append(inputs, EOS_ID), np.append(targets, EOS_ID)


def log_likelihoods(model, examples, batch=64):
    out = []
    with no_grad():
        for i in range(0, len(examples), batch):
            b = collate(examples[i:i + batch])
            logits = model(input_ids=b.input_ids, attention_mask=b.attention_mask,
                           decoder_input_ids=b.decoder_input_ids).logits.numpy()
            logits = logits - logits.max(-1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
            labels = b.labels
            keep = labels >= 0
            picked = np.take_along_axis(logp, np.where(keep, labels, 0)[..., None], -1)[..., 0]
            out.extend((picked * keep).sum(-1))
    return np.array(out)


def probe(model, tokenizer, world, nouns_idx):
    """Log-likelihood of every option for every probed noun: {kind: (nouns, options)}."""
    model.eval()
    lls = {"habitat": [], "category": [], "plural": []}
    for i in nouns_idx:
        noun = world.nouns[i]
        verbs, adjectives, _ = CATEGORIES[noun.category]
        hab = [masked_example(tokenizer, f"A {adjectives[0]} {noun.stem} lives in the", p, ".")
               for p in PLACES]
        cat = [masked_example(tokenizer, f"The {noun.stem}", v, ".") for v, _ in VERBS]
        plu = [masked_example(tokenizer, f"One {noun.stem} {verbs[0]} and two",
                              noun.stem + s, f"{verbs[0][:-1]}.") for s in PLURAL_SUFFIXES]
        ll = log_likelihoods(model, hab + cat + plu)
        lls["habitat"].append(ll[:len(hab)])
        lls["category"].append(ll[len(hab):len(hab) + len(cat)])
        lls["plural"].append(ll[len(hab) + len(cat):])
    model.train()
    return {k: np.array(v) for k, v in lls.items()}


def correct(world, nouns_idx, lls, centred: bool):
    """Per probed noun, whether the likeliest option is right. Centred: each option's
    log-likelihood minus its mean over the probed nouns, which removes what an option scores
    whatever the noun (its length in pieces, its frequency): the noun's own preference."""
    s = {k: (v - v.mean(0, keepdims=True) if centred else v) for k, v in lls.items()}
    rows = []
    for j, i in enumerate(nouns_idx):
        noun = world.nouns[i]
        own = [PLACES.index(x) for x in CATEGORIES[noun.category][2]]
        h, c, p = s["habitat"][j], s["category"][j], s["plural"][j]
        rows.append({"rank": int(i),
                     "habitat": PLACES[int(h.argmax())] == noun.habitat,
                     "habitat_in_category": PLACES[own[int(h[own].argmax())]] == noun.habitat,
                     "category": VERBS[int(c.argmax())][1] == noun.category,
                     "plural": PLURAL_SUFFIXES[int(p.argmax())] == noun.plural_suffix})
    return rows


def summarise(rows, bands):
    out = {}
    for lo, hi in bands:
        sel = [r for r in rows if lo <= r["rank"] < hi]
        out[f"{lo}-{hi}"] = {k: round(float(np.mean([r[k] for r in sel])), 3)
                             for k in ("habitat", "habitat_in_category", "category", "plural")}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="runs/pilots/world")
    ap.add_argument("--nouns", type=int, default=1000)
    ap.add_argument("--documents", type=int, default=40000)
    ap.add_argument("--vocab", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--probe-at", default="0,250,500,1000,2000,3000")
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--zipf", type=float, default=1.0)
    ap.add_argument("--topic-share", type=float, default=0.0)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    world = World.make(args.nouns, seed=0, zipf=args.zipf)
    docs = world.corpus(args.documents, seed=0, topic_share=args.topic_share)
    tok_path = out / "spiece.model"
    if not tok_path.exists():
        train_tokenizer(docs[:20000], args.vocab, tok_path, hard_vocab_limit=False)
    tok = Tokenizer(tok_path)
    data = pieces(tok, docs, 57)          # 57 tokens -> about 64-token inputs with sentinels
    print(f"{len(data)} pieces, {data.size} tokens; {data.size / args.steps / 32:.1f} passes? "
          f"(tokens per step {32 * 57})", flush=True)
    cfg = T5Config(vocab_size=tok.vocab_size, d_model=args.d_model, d_kv=args.d_model // 4,
                   d_ff=4 * args.d_model, num_heads=4, num_layers=args.layers,
                   feed_forward_proj="relu", dropout_rate=0.1)
    model = T5ForConditionalGeneration(cfg, seed=0)
    opt = Adafactor(model.parameters(), lr=args.lr, relative_step=False, scale_parameter=True)
    rng = np.random.default_rng(0)
    probe_rng = np.random.default_rng(1)
    edges = [0, args.nouns // 20, args.nouns // 5, args.nouns // 2, args.nouns]
    bands = list(zip(edges[:-1], edges[1:]))
    probed = np.concatenate([np.sort(probe_rng.choice(np.arange(lo, hi), min(60, hi - lo),
                                                      replace=False)) for lo, hi in bands])
    at = {int(s) for s in args.probe_at.split(",")}
    log = out / "probe.jsonl"
    lines = []
    started = time.time()
    for step in range(args.steps + 1):
        if step in at:
            lls = probe(model, tok, world, probed)
            np.savez(out / f"probe-{step:06d}.npz", nouns=probed, **lls)
            lines.append(json.dumps({
                "step": step, "tokens": step * 32 * 57, "seconds": round(time.time() - started),
                "centred": summarise(correct(world, probed, lls, True), bands),
                "raw": summarise(correct(world, probed, lls, False), bands)}))
            write_text(log, "\n".join(lines) + "\n")
            print(lines[-1], flush=True)
        if step == args.steps:
            model.save_pretrained(out / "model")
            break
        rows = data[rng.integers(len(data), size=32)]
        batch = collate([span_corruption(r, tok.vocab_size, rng) for r in rows])
        lr = inverse_sqrt(step + 1, warmup=100, peak=args.lr)
        opt.lr = lr
        loss = model(**batch.model_kwargs()).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step} loss {float(loss.numpy()):.3f} lr {lr:.4f} "
                  f"{time.time() - started:.0f}s", flush=True)


if __name__ == "__main__":
    main()
