"""Pilot (issue 27): does what the premise probe found (the plural class is stored) transfer
through fine-tuning to nouns the fine-tuning data never show?

Task: "plural: wug" -> "wugen" (exact match), greedy decoding; or, with `--format cloze`, the
same question in the pre-training's own format, one masked span: "One wug sleeps and two <X>
sleep." -> "<X> wugen <Y>" (the answer is the text between the first two sentinels).
The world's nouns (those of `world_probe.py`'s run, same seed) are split at random into
fine-tuning nouns and held-out test nouns; both arms fine-tune the same architecture on the
same examples, one from the pre-trained weights of `world_probe.py --out RUN`, one from a
random initialisation. A scratch model can learn the regular plural ("-s", 55% of the nouns)
but has no way to know a held-out noun's class; exact match on held-out nouns above the
commonest class's share is what pre-training gave.

    OPENBLAS_NUM_THREADS=1 python experiments/pilots/world_transfer.py --run runs/pilots/world
"""
from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np
from world import CATEGORIES, World  # experiments/pilots/world.py
from world_probe import masked_example

from minit5.data.batching import collate
from minit5.data.tokenizer import Tokenizer
from minit5.io.atomic_file import write_json
from minit5.optim import Adafactor
from minit5.t5 import T5ForConditionalGeneration

FORMAT = "plain"


def examples(tokenizer, nouns):
    if FORMAT == "cloze":
        out = []
        for n in nouns:
            verb = CATEGORIES[n.category][0][0]
            out.append(masked_example(tokenizer, f"One {n.stem} {verb} and two", n.plural,
                                      f" {verb[:-1]}."))
        return out
    return [(np.array(tokenizer.encode(f"plural: {n.stem}")),          # each ends in EOS
             np.array(tokenizer.encode(n.plural))) for n in nouns]


def answer(tokenizer, ids) -> str:
    """The predicted plural: the whole output, or (cloze) the text after the first sentinel
    and before the next."""
    ids = [int(t) for t in ids if t not in (0, 1)]
    if FORMAT == "cloze":
        span = []
        for t in ids[1:] if ids and tokenizer.is_sentinel(ids[0]) else []:
            if tokenizer.is_sentinel(t):
                break
            span.append(t)
        ids = span
    return tokenizer.decode(ids).strip()


def exact_match(model, tokenizer, nouns, batch=64):
    model.eval()
    right = []
    for i in range(0, len(nouns), batch):
        chunk = nouns[i:i + batch]
        b = collate(examples(tokenizer, chunk))
        out = model.generate(b.input_ids, attention_mask=b.attention_mask, max_new_tokens=10)
        for n, ids in zip(chunk, np.asarray(out)):
            right.append(answer(tokenizer, ids) == n.plural)
    model.train()
    return right


def finetune(model, tokenizer, train, steps, lr, seed):
    rng = np.random.default_rng(seed)
    opt = Adafactor(model.parameters(), lr=lr, relative_step=False, scale_parameter=False)
    data = examples(tokenizer, train)
    for _ in range(steps):
        batch = collate([data[i] for i in rng.integers(len(data), size=16)])
        loss = model(**batch.model_kwargs()).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="runs/pilots/world")
    ap.add_argument("--nouns", type=int, default=1000)
    ap.add_argument("--train", type=int, default=400)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=("plain", "cloze"), default="plain")
    ap.add_argument("--out", default="experiments/pilots/results/world_transfer.json")
    args = ap.parse_args()
    global FORMAT
    FORMAT = args.format
    run = pathlib.Path(args.run)
    world = World.make(args.nouns, seed=0)
    tokenizer = Tokenizer(run / "spiece.model")
    order = np.random.default_rng([args.seed, 7]).permutation(args.nouns)
    train = [world.nouns[i] for i in order[:args.train]]
    test = [world.nouns[i] for i in order[args.train:]]
    majority = float(np.mean([n.plural_suffix == "s" for n in test]))
    task = ("One STEM V and two <X> V. -> <X> PLURAL <Y>" if FORMAT == "cloze"
            else "plural: STEM -> PLURAL")
    results = {"task": f"{task}, exact match, greedy", "args": vars(args),
               "test_nouns": len(test), "test_share_regular_s": round(majority, 3), "arms": {}}
    for arm in ("pre-trained", "from scratch"):
        started = time.time()
        pretrained = T5ForConditionalGeneration.from_pretrained(run / "model")
        model = pretrained if arm == "pre-trained" else T5ForConditionalGeneration(
            pretrained.config, seed=args.seed)
        finetune(model, tokenizer, train, args.steps, args.lr, args.seed)
        held_out = exact_match(model, tokenizer, test)
        seen = exact_match(model, tokenizer, train)
        ranks = np.array([world.nouns.index(n) for n in test])
        bands = {}
        for lo, hi in ((0, 50), (50, 200), (200, 500), (500, args.nouns)):
            sel = [r for r, k in zip(held_out, ranks) if lo <= k < hi]
            bands[f"{lo}-{hi}"] = round(float(np.mean(sel)), 3) if sel else None
        results["arms"][arm] = {"held_out_exact_match": round(float(np.mean(held_out)), 3),
                                "train_exact_match": round(float(np.mean(seen)), 3),
                                "held_out_by_frequency_band": bands,
                                "seconds": round(time.time() - started)}
        print(arm, results["arms"][arm], flush=True)
    write_json(args.out, results)


if __name__ == "__main__":
    main()
