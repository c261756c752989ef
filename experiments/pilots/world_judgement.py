"""Pilot: do sentence judgements transfer from pre-training on the generated world?

The plural pilot asked for a per-noun fact and found transfer only for the commonest nouns.
This one asks for judgements that need a model of the world's sentences (word order, number
agreement, which verbs go with which nouns), answered with a label word, so that no objective
is favoured by writing running text. Three tasks, each fine-tuned alone, both arms (the
pre-trained run's model and a random initialisation of the same architecture), every setting
reported:

  order   "order first: S1 second: S2" -> "first" / "second": which one is a world sentence,
          the other being the same sentence with two adjacent words swapped;
  agree   "agree: S" -> "yes" / "no": S or S with its number agreement broken (a singular
          verb after a plural subject or the other way round);
  fits    "fits: S" -> "yes" / "no": S or S with its verb taken from another category.

Test sentences are new draws (a different seed from the corpus's); accuracy by exact match of
the greedy label.
"""
from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from world import CATEGORIES, NUMBERS, World, _plural_verb  # noqa: E402

from minit5.data.batching import collate  # noqa: E402
from minit5.data.tokenizer import Tokenizer  # noqa: E402
from minit5.io.atomic_file import write_json  # noqa: E402
from minit5.optim import Adafactor  # noqa: E402
from minit5.t5 import T5ForConditionalGeneration  # noqa: E402

OTHER_VERBS = {c: [v for o, (vs, _, _) in CATEGORIES.items() if o != c for v in vs]
               for c in CATEGORIES}


def agreeing_sentence(noun, rng):
    """(good, bad): a sentence whose verb agrees with its subject, and the same with it broken."""
    verbs, adjectives, _ = CATEGORIES[noun.category]
    verb = verbs[rng.integers(len(verbs))]
    if rng.random() < 0.5:
        good = f"The {noun.stem} {verb} in the {noun.habitat}."
        bad = f"The {noun.stem} {_plural_verb(verb)} in the {noun.habitat}."
    else:
        number = NUMBERS[rng.integers(len(NUMBERS))]
        good = f"In the {noun.habitat}, {number} {noun.plural} {_plural_verb(verb)}."
        bad = f"In the {noun.habitat}, {number} {noun.plural} {verb}."
    return good, bad


def fitting_sentence(noun, rng):
    verbs = CATEGORIES[noun.category][0]
    wrong = OTHER_VERBS[noun.category]
    return (f"The {noun.stem} {verbs[rng.integers(len(verbs))]}.",
            f"The {noun.stem} {wrong[rng.integers(len(wrong))]}.")


def swapped(sentence, rng):
    words = sentence.rstrip(".").split()
    while True:
        i = int(rng.integers(len(words) - 1))
        if words[i] != words[i + 1]:
            break
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words) + "."


def make_task(name, world, n, rng, nouns=None):
    """`n` examples about nouns drawn by frequency from `nouns` (indices; default all)."""
    from world import _sentence
    pool = np.arange(len(world.nouns)) if nouns is None else np.asarray(nouns)
    if name == "agree2":                 # the zero class's plural is its stem: no number shown
        pool = pool[[world.nouns[i].plural_suffix != "" for i in pool]]
    weights = world.weights[pool] / world.weights[pool].sum()
    out = []
    for _ in range(n):
        noun = world.nouns[pool[rng.choice(len(pool), p=weights)]]
        label = bool(rng.random() < 0.5)
        verbs = CATEGORIES[noun.category][0]
        verb = verbs[rng.integers(len(verbs))]
        if name == "agree2":
            plural = rng.random() < 0.5
            form = noun.plural if plural else noun.stem
            verb_form = _plural_verb(verb) if plural == label else verb
            out.append((f"agree: The {form} {verb_form}.", "yes" if label else "no"))
            continue
        if name == "pluralize":
            out.append((f"plural: The {noun.stem} {verb} in the {noun.habitat}.",
                        f"The {noun.plural} {_plural_verb(verb)} in the {noun.habitat}."))
            continue
        if name == "kind":
            out.append((f"question: what kind of thing is a {noun.stem}?", noun.category))
            continue
        if name == "order":
            good = _sentence(noun, rng)
            bad = swapped(good, rng)
            first, second = (good, bad) if label else (bad, good)
            out.append((f"order first: {first} second: {second}",
                        "first" if label else "second"))
        else:
            good, bad = (agreeing_sentence if name == "agree" else fitting_sentence)(noun, rng)
            out.append((f"{name}: {good if label else bad}", "yes" if label else "no"))
    return out


def encode(tokenizer, pairs):
    return [(np.array(tokenizer.encode(x)), np.array(tokenizer.encode(y))) for x, y in pairs]


def accuracy(model, tokenizer, pairs, batch=128):
    model.eval()
    data = encode(tokenizer, pairs)
    right = []
    for i in range(0, len(data), batch):
        b = collate(data[i:i + batch])
        out = model.generate(b.input_ids, attention_mask=b.attention_mask, max_new_tokens=24)
        for (_, y), ids in zip(pairs[i:i + batch], np.asarray(out)):
            right.append(tokenizer.decode([int(t) for t in ids if t not in (0, 1)]).strip() == y)
    model.train()
    return float(np.mean(right))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="runs/pilots/world200")
    ap.add_argument("--nouns", type=int, default=200)
    ap.add_argument("--train", type=int, default=500)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--tasks", default="order,agree,fits")
    ap.add_argument("--held-out", action="store_true",
                    help="fine-tune on half the nouns, test on the other half")
    ap.add_argument("--out", default="experiments/pilots/results/world_judgement.json")
    args = ap.parse_args()
    run = pathlib.Path(args.run)
    world = World.make(args.nouns, seed=0)
    tokenizer = Tokenizer(run / "spiece.model")
    results = {"args": vars(args), "tasks": {}}
    for name in args.tasks.split(","):
        rng = np.random.default_rng([sum(map(ord, name)), 11])
        order = np.random.default_rng([args.nouns, 5]).permutation(args.nouns)
        half = args.nouns // 2
        split = (order[:half], order[half:]) if args.held_out else (None, None)
        train = make_task(name, world, args.train, rng, split[0])
        test = make_task(name, world, args.test, rng, split[1])
        results["tasks"][name] = {}
        for arm in ("pre-trained", "from scratch"):
            started = time.time()
            pre = T5ForConditionalGeneration.from_pretrained(run / "model")
            model = pre if arm == "pre-trained" else T5ForConditionalGeneration(pre.config, seed=0)
            data = encode(tokenizer, train)
            opt = Adafactor(model.parameters(), lr=args.lr, relative_step=False,
                            scale_parameter=False)
            frng = np.random.default_rng(0)
            curve = []
            for step in range(args.steps):
                b = collate([data[i] for i in frng.integers(len(data), size=16)])
                loss = model(**b.model_kwargs()).loss
                opt.zero_grad()
                loss.backward()
                opt.step()
                if (step + 1) % (args.steps // 3) == 0:
                    curve.append((step + 1, accuracy(model, tokenizer, test[:300])))
            row = {"train": accuracy(model, tokenizer, train),
                   "test": accuracy(model, tokenizer, test),
                   "test300_curve": curve, "seconds": round(time.time() - started)}
            results["tasks"][name][arm] = row
            print(name, arm, row, flush=True)
            write_json(args.out, results)


if __name__ == "__main__":
    main()
