"""The world benchmark's tasks: classification, closed-book question answering and generation,
each about nouns the fine-tuning data never mention (a design picks three: `TASK_NAMES` are the
first design's, `minit5.experiments.world_gates`).

The lexicon of a `minit5.data.world.World` is split into three pools of nouns (`noun_pools`):
fine-tuning examples are made from the first, validation examples from the second, test
examples from the third. A test question is therefore about a noun that only pre-training can
have shown the model, and a model fine-tuned from scratch can answer it only by guessing from
the noun's spelling. Answers are words the input does not contain (for plural and plurals, a
stem of the input with its ending), so no objective is favoured because its decoder copies its
input.

  agreement  (classification, like CoLA) "agreement sentence: The daxi sleep." -> "acceptable"
             or "unacceptable": does the verb agree with its subject? The subject's number is
             shown only by the noun's form, which is plural or not by the lexicon (`world`).
             Half the sentences are acceptable. Scores: accuracy (primary), Matthews
             correlation.
  inflection (classification, like CoLA) "inflection sentence: One dax and two daxen." ->
             "acceptable" or "unacceptable": is the second form the noun's plural? Half the
             sentences use it; the others one of the three other plurals its morphology
             allows, drawn alike (never another noun's form), so where the plural classes are
             equally common (the lexicon draws them so), every suffix is as common in
             acceptable sentences as in unacceptable ones and the spelling tells nothing.
             Scores: accuracy (primary), Matthews correlation.
  number     (classification) "number: daxi" -> "plural" or "singular": the number of one form,
             which only the lexicon fixes (half the items show the plural). What agreement
             asks, without the verb. Scores: accuracy (primary), Matthews correlation.
  kind       (closed-book question answering, the question of Roberts, Raffel and Shazeer
             2020) "question: what kind of thing is the dax?" -> "animal". Score: exact match.
  plural     (closed-book question answering about form) "question: what is the plural of
             dax?" -> "daxi": the noun's plural class, which only the text shows (the four
             classes are equally common and the spelling does not mark them). Score: exact
             match. Not one of the first design's three tasks (`TASK_NAMES`).
  plurals    (generation, a rewrite like translation) "plurals: dax wug blick" -> "daxi wugen
             blicks": the plurals of 2-4 nouns, in order. Score: ROUGE-Lsum, which here is
             about the share of plurals written right in order, and exact match.
  summary    (summarisation) "summarize: I saw the daxi. Look at the wug." -> "animals and a
             tool": what a short story is about, in the world's general words: each noun's
             category, plural or singular as its form is. Score: ROUGE-Lsum (F-measure, the
             t5 library's settings), and exact match.

Every example is a function of the rng it is given; `task_examples(name, world, pool, n, rng)`
draws n, each about a noun drawn by frequency from the pool (or, with `uniform=True`, with
every noun of the pool alike).
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from minit5.data.metrics import matthews_corrcoef, rouge
from minit5.data.world import CATEGORIES, NUMBERS, World, plural_verb

ACCEPTABLE, UNACCEPTABLE = "acceptable", "unacceptable"
PLURAL, SINGULAR = "plural", "singular"
TASK_NAMES = ("agreement", "kind", "summary")
PRIMARY = {"agreement": "accuracy", "kind": "exact_match", "summary": "rougeLsum",
           "plural": "exact_match", "plurals": "rougeLsum", "inflection": "accuracy",
           "number": "accuracy"}
LABELS = {"agreement": (ACCEPTABLE, UNACCEPTABLE), "inflection": (ACCEPTABLE, UNACCEPTABLE),
          "number": (PLURAL, SINGULAR)}   # the classification tasks: (positive, negative)
POOLS = ("train", "validation", "test")
# Of each block of 10 nouns in frequency order, how many go to each pool.
POOL_SHARES = (5, 1, 4)
STORY_FRAMES = ("I saw the {}.", "Look at the {}.", "We found the {}.", "Nobody liked the {}.")


def noun_pools(world: World, seed: int) -> dict:
    """{"train" | "validation" | "test": indices of nouns}, disjoint. Each block of 10 nouns in
    frequency order gives 5 to train, 1 to validation and 4 to test (which ones: a function of
    `seed`), so every pool has common and rare nouns alike."""
    rng = np.random.default_rng([seed, 2])
    pools = {name: [] for name in POOLS}
    bounds = np.cumsum((0,) + POOL_SHARES)
    for start in range(0, len(world.nouns), 10):
        block = start + rng.permutation(min(10, len(world.nouns) - start))
        for name, lo, hi in zip(POOLS, bounds[:-1], bounds[1:]):
            pools[name].extend(int(i) for i in block[lo:hi])
    return {name: np.array(sorted(pool)) for name, pool in pools.items()}


def agreement_example(world: World, pool, rng: np.random.Generator) -> tuple[str, str]:
    noun = world.draw(rng, pool)
    verbs = CATEGORIES[noun.category][1]
    verb = verbs[rng.integers(len(verbs))]
    plural, acceptable = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
    verb_form = plural_verb(verb) if plural == acceptable else verb
    return (f"agreement sentence: The {noun.form(plural)} {verb_form}.",
            ACCEPTABLE if acceptable else UNACCEPTABLE)


def inflection_example(world: World, pool, rng: np.random.Generator) -> tuple[str, str]:
    noun = world.draw(rng, pool)
    number = NUMBERS[rng.integers(len(NUMBERS))]
    if rng.random() < 0.5:
        return f"inflection sentence: One {noun.stem} and {number} {noun.plural}.", ACCEPTABLE
    forms = {form for n in world.nouns for form in (n.stem, n.plural)}
    other = [form for form in noun.plural_candidates if form != noun.plural]
    wrong = [form for form in other if form not in forms] or other
    return (f"inflection sentence: One {noun.stem} and {number} "
            f"{wrong[rng.integers(len(wrong))]}.", UNACCEPTABLE)


def number_example(world: World, pool, rng: np.random.Generator) -> tuple[str, str]:
    noun = world.draw(rng, pool)
    plural = bool(rng.random() < 0.5)
    return f"number: {noun.form(plural)}", PLURAL if plural else SINGULAR


def kind_example(world: World, pool, rng: np.random.Generator) -> tuple[str, str]:
    noun = world.draw(rng, pool)
    return f"question: what kind of thing is the {noun.stem}?", noun.category


def summary_example(world: World, pool, rng: np.random.Generator) -> tuple[str, str]:
    story, gist = [], []
    for _ in range(rng.integers(2, 5)):
        noun = world.draw(rng, pool)
        plural = bool(rng.random() < 0.5)
        story.append(STORY_FRAMES[rng.integers(len(STORY_FRAMES))].format(noun.form(plural)))
        category = noun.category
        gist.append(CATEGORIES[category][0] if plural else
                    ("an " if category[0] in "aeiou" else "a ") + category)
    summary = gist[0] if len(gist) == 1 else ", ".join(gist[:-1]) + " and " + gist[-1]
    return "summarize: " + " ".join(story), summary


def plural_example(world: World, pool, rng: np.random.Generator) -> tuple[str, str]:
    noun = world.draw(rng, pool)
    return f"question: what is the plural of {noun.stem}?", noun.plural


def plurals_example(world: World, pool, rng: np.random.Generator) -> tuple[str, str]:
    nouns = [world.draw(rng, pool) for _ in range(rng.integers(2, 5))]
    return ("plurals: " + " ".join(n.stem for n in nouns), " ".join(n.plural for n in nouns))


MAKERS = {"agreement": agreement_example, "kind": kind_example, "summary": summary_example,
          "plural": plural_example, "plurals": plurals_example,
          "inflection": inflection_example, "number": number_example}


def task_examples(name: str, world: World, pool, n: int, rng: np.random.Generator,
                  uniform: bool = False) -> list:
    """`n` (input, target) pairs of task `name` about nouns of `pool`, drawn by the nouns'
    frequencies, or with `uniform` each noun of the pool alike (so that a score is not
    carried by the pool's few common nouns)."""
    if name not in MAKERS:
        raise KeyError(f"no world task {name!r}; the tasks are {list(MAKERS)}")
    if uniform:
        world = dataclasses.replace(world, weights=np.full(len(world.nouns), 1 / len(world.nouns)))
    return [MAKERS[name](world, pool, rng) for _ in range(n)]


def item_scores(name: str, predictions: Sequence[str], targets: Sequence[str]) -> np.ndarray:
    """(N,) the primary score of each prediction, in 0-100: 100 x exact match for agreement,
    inflection, number, kind and plural (the accuracy of a classification is the exact match of its
    label), 100 x ROUGE-Lsum F-measure for summary and plurals (one sentence: ROUGE-L)."""
    if len(predictions) != len(targets):
        raise ValueError(f"item_scores({name!r}): {len(predictions)} predictions for "
                         f"{len(targets)} targets")
    if PRIMARY[name] == "rougeLsum":
        return np.array([rouge([p], [t])["rougeLsum"] for p, t in zip(predictions, targets)],
                        dtype=np.float64)
    return 100.0 * np.array([p.strip() == t for p, t in zip(predictions, targets)],
                            dtype=np.float64)


def scores(name: str, predictions: Sequence[str], targets: Sequence[str]) -> dict:
    """Every score of task `name`, in 0-100: the primary one (`PRIMARY`) and, for the
    classification tasks (`LABELS`), Matthews correlation (x 100; an answer that is
    not a label counts as the wrong label), for summary and plurals, exact match."""
    items = item_scores(name, predictions, targets)
    out = {PRIMARY[name]: float(items.mean())}
    if name in LABELS:
        positive, negative = LABELS[name]
        wanted = [t == positive for t in targets]
        said = [(p.strip() == positive) if p.strip() in (positive, negative)
                else not w for p, w in zip(predictions, wanted)]
        out["matthews"] = matthews_corrcoef([int(s) for s in said],
                                                    [int(w) for w in wanted])
    if PRIMARY[name] == "rougeLsum":
        out["exact_match"] = 100.0 * float(np.mean([p.strip() == t for p, t in
                                                    zip(predictions, targets)]))
    return out
