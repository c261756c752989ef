"""What a pre-trained model knows of the world before any fine-tuning: the premise probe.

A benchmark built on the world (`minit5.data.world_tasks`) can only see pre-training if
pre-training stores the lexicon. This probe asks a span-corruption model directly, in its own
format: one masked span per question, the candidates ranked by log p(target | input), the
likeliest counted right or wrong. For each noun of the test pool:

  plural    "One {stem} {verb} and two <X> {plural verb}." -- which of the four forms its
            morphology allows for the plural (`Noun.plural_candidates`) fills <X>? Chance 1/4.
  category  "The {stem} is a kind of <X>." -- which of the six categories? Chance 1/6.
  agreement "The {form} <X>." for the stem and for the plural -- which verb form, "sleeps" or
            "sleep"? Right only if both forms get the agreeing verb. Chance 1/4.

The probe reads the model's likelihoods, not its greedy output, so it measures what is stored,
not whether a fine-tuning run can surface it; a curve of probe accuracy against pre-training
tokens is what the gates file's budget is read against.

    python -m minit5.experiments.world_probe --work-dir runs/world_gates
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from minit5.autograd import no_grad
from minit5.data.batching import collate
from minit5.data.objectives import noise_span_to_unique_sentinel
from minit5.data.tokenizer import EOS_ID
from minit5.data.world import CATEGORIES, plural_verb
from minit5.experiments.world_gates import DESIGN, DESIGNS, Setup, checkpoint_dir, pretrain
from minit5.io.atomic_file import write_json
from minit5.nn.module import eval_mode
from minit5.t5 import T5ForConditionalGeneration
from minit5.train.choice import sequence_log_likelihoods

# plural: four candidates (`Noun.plural_candidates`); agreement: two forms, two verbs each
CHANCE = {"plural": 1 / 4, "category": 1 / len(CATEGORIES), "agreement": 1 / 4}


def masked_example(tokenizer, before: str, answer: str, after: str):
    """(inputs, targets) ids of a span-corruption example whose one noise span is `answer`:
    inputs "before <X> after </s>", targets "<X> answer <Y> </s>"."""
    def encode(text):
        return list(tokenizer.encode(text, add_eos=False))
    a, b, c = encode(before), encode(answer), encode(after)
    tokens = np.array(a + b + c)
    mask = np.zeros(len(tokens), bool)
    mask[len(a):len(a) + len(b)] = True
    V = tokenizer.vocab_size
    return (np.append(noise_span_to_unique_sentinel(tokens, mask, V), EOS_ID),
            np.append(noise_span_to_unique_sentinel(tokens, ~mask, V), EOS_ID))


def questions(tokenizer, noun) -> dict:
    """{property: ([(inputs, targets) per candidate], index of the right one)}."""
    verb = CATEGORIES[noun.category][1][0]
    plural = [masked_example(tokenizer, f"One {noun.stem} {verb} and two", form,
                             f" {plural_verb(verb)}.") for form in noun.plural_candidates]
    category = [masked_example(tokenizer, f"The {noun.stem} is a kind of", c, ".")
                for c in CATEGORIES]
    agreement = [masked_example(tokenizer, f"The {form}", v, ".")
                 for form in (noun.stem, noun.plural) for v in (verb, plural_verb(verb))]
    return {"plural": (plural, noun.plural_candidates.index(noun.plural)),
            "category": (category, list(CATEGORIES).index(noun.category)),
            "agreement": (agreement, None)}


def log_likelihoods(model, examples, batch: int = 64) -> np.ndarray:
    out = []
    with no_grad(), eval_mode(model):
        for start in range(0, len(examples), batch):
            b = collate(examples[start:start + batch])
            logits = model(input_ids=b.input_ids, attention_mask=b.attention_mask,
                           decoder_input_ids=b.decoder_input_ids).logits.numpy()
            out.append(sequence_log_likelihoods(logits, b.labels))
    return np.concatenate(out)


def probe(model, tokenizer, nouns) -> dict:
    """{property: accuracy in 0-100} over `nouns`, and {property + "_right": [0/1 per noun]}."""
    asked = [questions(tokenizer, n) for n in nouns]
    out = {}
    for prop in CHANCE:
        examples = [ex for q in asked for ex in q[prop][0]]
        scores = log_likelihoods(model, examples).reshape(len(nouns), -1)
        if prop == "agreement":          # (stem: sg, pl; plural: sg, pl) -> both agree
            right = ((scores[:, 0] > scores[:, 1]) & (scores[:, 3] > scores[:, 2])).astype(int)
        else:
            right = (scores.argmax(axis=1) == np.array([q[prop][1] for q in asked])).astype(int)
        out[prop] = 100.0 * float(right.mean())
        out[prop + "_right"] = right.tolist()
    return out


def longer_design(factor: int, base=DESIGN) -> dict:
    """A gates design with `factor` times the pre-training steps, checkpoints at 1, 2, ...
    times the row budget. The schedule does not depend on the run's length, so its first
    checkpoint is the gates' full-budget model."""
    d = json.loads(json.dumps(base))
    steps = base["pretrain"]["steps"]
    d["pretrain"].update(steps=factor * steps, checkpoints={
        str(k): k * steps for k in (1, 2, 4, 8, 16) if k <= factor})
    return d


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--design", choices=sorted(DESIGNS), default="v1",
                    help="whose world and checkpoints (default v1, the recorded probe's)")
    ap.add_argument("--work-dir", default=None,
                    help="default: the design's gates work dir (runs/world_gates, + _v2)")
    ap.add_argument("--out", default=None,
                    help="default: experiments/results/world/probe.json (+ _v2)")
    ap.add_argument("--longer", type=int, default=None,
                    help="pre-train this many times the row budget first (in --work-dir), "
                         "and probe its checkpoints instead of the gates' runs")
    args = ap.parse_args(argv)
    suffix = "" if args.design == "v1" else f"_{args.design}"
    work_dir = args.work_dir or f"runs/world_gates{suffix}"
    out = args.out or f"experiments/results/world/probe{suffix}.json"
    base = DESIGNS[args.design]
    design = base if args.longer is None else longer_design(args.longer, base)
    setup = Setup(work_dir, design)
    if args.longer is not None:
        pretrain(setup, "full")
    nouns = [setup.world.nouns[i] for i in setup.pools["test"]]
    p = design["pretrain"]
    rows = []
    arms = [("scratch", 0)] + sorted(p["checkpoints"].items(), key=lambda x: x[1])
    if args.longer is None:
        arms.append(("tiny corpus", p["steps"]))
    for arm, step in arms:
        if arm == "scratch":
            model = T5ForConditionalGeneration(setup.model_config(), seed=p["seed"])
        else:
            run = "tiny corpus" if arm == "tiny corpus" else "full"
            model = T5ForConditionalGeneration.from_pretrained(
                checkpoint_dir(work_dir, run, step))
        result = probe(model, setup.tokenizer, nouns)
        rows.append({"arm": arm, "step": step,
                     "tokens": step * p["batch"] * p["piece_tokens"], **result})
        print(json.dumps({k: v for k, v in rows[-1].items() if not k.endswith("_right")}),
              flush=True)
    ranks = [int(i) for i in setup.pools["test"]]
    write_json(out, {"design": design, "chance": {k: 100 * v for k, v in CHANCE.items()},
                          "test_noun_ranks": ranks, "rows": rows})


if __name__ == "__main__":
    main()
