"""How much of a noun form's number its spelling and its pieces show, before any training.

The world's lexicon (`minit5.data.world`) is built so that a form's letters tell little about
its number, and the tasks about number (agreement, number) rest on that: a model from scratch
should be at chance on nouns it never saw. But a model reads token ids, not letters, and the
tokenizer is trained on the corpus. This check asks what a reader of spelling alone could do:
for each feature below, it learns on the training pool's forms (every noun's singular and
plural) which number each value of the feature goes with, and scores that rule on the test
pool's forms (a value never seen in training gets the commoner number). Chance is 50.

  pieces       how many sentencepiece pieces the form has
  last piece   its last piece
  last k       its last k letters, k = 1, 2, 3

    python -m minit5.experiments.world_spelling --design v3
"""
from __future__ import annotations

import argparse
import collections
import json
import pathlib

from minit5.experiments.world_gates import DESIGNS, Setup
from minit5.io.atomic_file import write_json

FEATURES = ("pieces", "last piece", "last 1", "last 2", "last 3")


def features(form: str, tokenizer) -> dict:
    ids = tokenizer.encode(form, add_eos=False)
    return {"pieces": len(ids), "last piece": tokenizer.id_to_piece(ids[-1]),
            **{f"last {k}": form[-k:] for k in (1, 2, 3)}}


def forms(world, pool) -> list:
    """[(form, is plural)] of every noun of the pool, singular and plural."""
    return [(world.nouns[i].form(plural), plural) for i in pool for plural in (False, True)]


def spelling_accuracy(world, pools, tokenizer) -> dict:
    """{feature: % of the test pool's forms whose number the training pool's rule gets right}."""
    train, test = forms(world, pools["train"]), forms(world, pools["test"])
    commoner = 2 * sum(p for _, p in train) >= len(train)
    out = {}
    for name in FEATURES:
        counts = collections.defaultdict(lambda: [0, 0])
        for form, plural in train:
            counts[features(form, tokenizer)[name]][int(plural)] += 1

        def guess(value):
            singular, plural = counts.get(value, (0, 0))
            return commoner if singular == plural else plural > singular

        out[name] = 100.0 * sum(guess(features(f, tokenizer)[name]) == p
                                for f, p in test) / len(test)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--design", nargs="+", choices=sorted(DESIGNS), default=sorted(DESIGNS))
    ap.add_argument("--out", default="experiments/results/world/spelling.json")
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    for name in args.design:
        suffix = "" if name == "v1" else f"_{name}"
        setup = Setup(f"runs/world_gates{suffix}", DESIGNS[name])
        results[name] = {"world": DESIGNS[name]["world"],
                         "tokenizer": DESIGNS[name]["tokenizer"],
                         "accuracy": spelling_accuracy(setup.world, setup.pools,
                                                       setup.tokenizer)}
        print(name, {k: round(v, 1) for k, v in results[name]["accuracy"].items()}, flush=True)
    write_json(args.out, results)


if __name__ == "__main__":
    main()
