"""Fine-tuning tasks made from natural English sentences, for the paper-table miniatures.

The synthetic tasks of `minit5.data.tasks` (word lists, made-up rules) can be learned from
scratch as well as after pre-training: they need no knowledge of English. The paper's tasks do.
These are built from real sentences of the corpus, so solving them takes what pre-training on
that corpus teaches (word order, which words go together), and they come with a fixed train /
validation / test split so that small, low-resource training sets are possible:

  acceptability  "cola sentence: {s}" -> "acceptable" | "unacceptable" (two words swapped)
  pair           "which is English: {s or swapped} | {the other}" -> s
  cloze choice   "fill in: {s with one word replaced by ___} options: {x} | {y}" -> the word
  cloze          "fill in: {s with one word replaced by ___}" -> the word (open vocabulary)
  intruder       "intruder: {s with one word replaced by another}" -> the intruding word

Each task is a `minit5.data.tasks.Task` that turns one sentence into one example with a
`numpy.random.Generator` (`task.examples(sentences, rng)`), so the same sentence and generator
state always give the same example.
"""
from __future__ import annotations

import collections
import re
from typing import Sequence

import numpy as np

from minit5.data.metrics import METRICS
from minit5.data.tasks import Task, glue_format

MIN_WORDS, MAX_WORDS = 6, 20        # sentence length, in whitespace words
MIN_LETTERS = 4                     # words the cloze and intruder tasks may pick
BLANK = "___"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z ,;:'()-]*[.!?]")   # prose, not code or paths
_WORD = re.compile(r"[A-Za-z]+")


# --- sentences and splits ------------------------------------------------------------------------

def split_pages(pages: Sequence[str], held_out: float, seed: int) -> tuple[list, list]:
    """(kept, held_out_pages): a fixed random `held_out` fraction of the pages is set aside."""
    if not 0 < held_out < 1:
        raise ValueError(f"split_pages: held_out must be a fraction in (0, 1), got {held_out}")
    order = np.random.default_rng(seed).permutation(len(pages))
    n_out = max(1, int(round(len(pages) * held_out)))
    out = set(order[:n_out].tolist())
    return ([p for i, p in enumerate(pages) if i not in out],
            [p for i, p in enumerate(pages) if i in out])


def corpus_sentences(pages: Sequence[str]) -> list[str]:
    """Prose sentences of `pages` in page order, each once: MIN_WORDS-MAX_WORDS words, starting
    with a letter, ending in . ? or !, and holding only letters and ordinary punctuation."""
    found = {}
    for page in pages:
        for line in page.split("\n"):
            for sentence in _SENTENCE_END.split(line.strip()):
                if (MIN_WORDS <= len(sentence.split()) <= MAX_WORDS
                        and _PLAIN.fullmatch(sentence)):
                    found.setdefault(sentence, None)
    return list(found)


def split_sentences(sentences: Sequence[str], fractions: Sequence[float]) -> list[list[str]]:
    """Consecutive pools of `sentences` (already in a fixed order) in the given fractions; the
    last pool takes the remainder."""
    if any(f <= 0 for f in fractions) or sum(fractions) > 1 + 1e-9:
        raise ValueError(f"split_sentences: fractions must be positive and sum to at most 1, "
                         f"got {list(fractions)}")
    pools, start = [], 0
    for i, fraction in enumerate(fractions):
        end = len(sentences) if i == len(fractions) - 1 else start + int(len(sentences) * fraction)
        pools.append(list(sentences[start:end]))
        start = end
    return pools


def word_frequencies(pages: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Words of MIN_LETTERS+ letters in `pages` (lower case), most frequent first, and their
    relative frequencies: the distribution the intruder task draws replacements from."""
    counts = collections.Counter(w.lower() for p in pages for w in _WORD.findall(p)
                                 if len(w) >= MIN_LETTERS)
    words = sorted(counts, key=lambda w: (-counts[w], w))
    freq = np.array([counts[w] for w in words], dtype=np.float64)
    return words, freq / freq.sum()


# --- the tasks ------------------------------------------------------------------------------------

def _sentence_task(name: str, prefix: str, metric: str, make, choices=None) -> Task:
    """A `minit5.data.tasks.Task` whose examples are made from given sentences:
    make(sentence, rng) -> (input_text, target_text). `metric` names a metric of
    `minit5.data.metrics.METRICS`, which reads each prediction with surrounding whitespace
    removed; its score (0-1) is the one that goes into the experiment's average (`primary`).
    `choices`, where set, gives the options an input offers (the target among them): the
    model's answer is then the option it ranks highest (rank classification), not a free
    greedy decoding."""
    return Task(name, prefix, None, METRICS[metric], choices=choices, postprocess=str.strip,
                primary=metric, make_from_text=make)


def _core(word: str) -> str:
    return word.strip(",;:.?!()'")


def _pickable(words: list[str]) -> list[int]:
    """Positions (never the first) whose word is MIN_LETTERS+ letters, punctuation aside."""
    return [i for i, w in enumerate(words)
            if i > 0 and len(_core(w)) >= MIN_LETTERS and _core(w).isalpha()]


def _pick(sentence: str, rng: np.random.Generator) -> tuple[list[str], int]:
    words = sentence.split()
    options = _pickable(words)
    if not options:
        raise ValueError(f"no word of {MIN_LETTERS}+ letters after the first in {sentence!r}; "
                         "keep only sentences for which usable(sentence) is true")
    return words, options[int(rng.integers(len(options)))]


def _replace_word(words: list[str], i: int, new: str) -> str:
    """The sentence with the letters of word i replaced by `new`, its punctuation kept."""
    core = _core(words[i])
    start = words[i].index(core)
    return " ".join(words[:i] + [words[i][:start] + new + words[i][start + len(core):]]
                    + words[i + 1:])


def _swap_two(sentence: str, rng: np.random.Generator) -> str:
    """The sentence with two different words other than the first trading places, the final
    mark staying at the end (two equal words, say two "the", would leave it unchanged)."""
    body, mark = sentence[:-1].split(), sentence[-1]
    if len(set(body[1:])) < 2:
        raise ValueError(f"no two different words after the first in {sentence!r}; keep only "
                         "sentences for which usable(sentence) is true")
    i = j = 0
    while body[i] == body[j]:
        i, j = sorted(int(k) + 1 for k in rng.choice(len(body) - 1, size=2, replace=False))
    body[i], body[j] = body[j], body[i]
    return " ".join(body) + mark


def acceptability_task() -> Task:
    """CoLA-like. With probability 1/2 the sentence is kept ("acceptable"); otherwise two of its
    words other than the first trade places, the final mark staying at the end
    ("unacceptable"). The answer is the likelier of the two labels. Metric: accuracy over
    balanced classes (chance 0.5)."""
    def make(sentence, rng):
        if rng.random() < 0.5:
            return glue_format("cola", {"sentence": sentence}), "acceptable"
        return glue_format("cola", {"sentence": _swap_two(sentence, rng)}), "unacceptable"

    return _sentence_task("acceptability", "cola sentence: ", "accuracy", make,
                          choices=lambda source: ["acceptable", "unacceptable"])


OR = " | "          # between the options an input offers (no task sentence contains "|")


def _options(source: str, marker: str) -> list[str]:
    return source.rsplit(marker, 1)[1].split(OR)


def pair_task() -> Task:
    """Which of two sentences is English: the sentence and its copy with two words swapped
    (as in `acceptability_task`), in random order: "which is English: {a} | {b}" -> the
    sentence as written. The answer is copied from the input, the likelier of the two options;
    a model whose decoder has learnt natural word order prefers the right one. Metric: accuracy
    (chance 0.5)."""
    marker = "which is English: "

    def make(sentence, rng):
        options = [sentence, _swap_two(sentence, rng)]
        if rng.random() < 0.5:
            options.reverse()
        return marker + OR.join(options), sentence

    return _sentence_task("pair", marker, "accuracy", make,
                          choices=lambda source: _options(source, marker))


def cloze_task() -> Task:
    """One word of MIN_LETTERS+ letters (never the first) becomes BLANK; the target is the word.
    Metric: exact match."""
    def make(sentence, rng):
        words, i = _pick(sentence, rng)
        word = _core(words[i])
        return f"fill in: {_replace_word(words, i, BLANK)}", word

    return _sentence_task("cloze", "fill in: ", "exact_match", make)


def _draw_other(vocabulary, probabilities, rng, word: str) -> str:
    """A word of `vocabulary` other than `word` (lower case), drawn with `probabilities`."""
    new = word
    while new == word:
        new = vocabulary[int(rng.choice(len(vocabulary), p=probabilities))]
    return new


def _check_vocabulary(name: str, vocabulary) -> list:
    vocabulary = list(vocabulary)
    if len(vocabulary) < 2:
        raise ValueError(f"{name}: the vocabulary needs at least two words; build it with "
                         "word_frequencies(pages) from a real corpus")
    return vocabulary


def intruder_task(vocabulary: Sequence[str], probabilities: np.ndarray) -> Task:
    """One word of MIN_LETTERS+ letters (never the first) is replaced by a different word drawn
    from `vocabulary` with `probabilities` (`word_frequencies` of the pre-training pages); the
    target is the intruder, a span of the input as in SQuAD. Metric: exact match."""
    vocabulary = _check_vocabulary("intruder_task", vocabulary)

    def make(sentence, rng):
        words, i = _pick(sentence, rng)
        new = _draw_other(vocabulary, probabilities, rng, _core(words[i]).lower())
        return f"intruder: {_replace_word(words, i, new)}", new

    return _sentence_task("intruder", "intruder: ", "exact_match", make)


def cloze_choice_task(vocabulary: Sequence[str], probabilities: np.ndarray) -> Task:
    """The cloze task with its answer among two options written in the input: "fill in: {s with
    one word replaced by ___} options: {x} | {y}" -> the missing word. The other option is a
    different word drawn from `vocabulary` with `probabilities` (`word_frequencies` of the
    pre-training pages); the order of the two is random. The answer is the likelier option,
    so the output vocabulary is not what the task tests. Metric: accuracy (chance 0.5)."""
    marker = " options: "
    vocabulary = _check_vocabulary("cloze_choice_task", vocabulary)

    def make(sentence, rng):
        words, i = _pick(sentence, rng)
        word = _core(words[i])
        other = _draw_other(vocabulary, probabilities, rng, word.lower())
        options = [word, other] if rng.random() < 0.5 else [other, word]
        return f"fill in: {_replace_word(words, i, BLANK)}{marker}{OR.join(options)}", word

    return _sentence_task("cloze choice", "fill in: ", "accuracy", make,
                          choices=lambda source: _options(source, marker))


def usable(sentence: str) -> bool:
    """Every task can make an example of it: a word other than the first to pick, and two
    different words after the first to swap."""
    return bool(_pickable(sentence.split())) and len(set(sentence[:-1].split()[1:])) >= 2


TASKS = ("acceptability", "pair", "cloze choice", "cloze", "intruder")


def language_tasks(pretraining_pages: Sequence[str],
                   names: Sequence[str]) -> dict[str, Task]:
    """The tasks called `names` (from TASKS), in that order; replacement words (intruder, the
    cloze's second option) follow the pre-training pages' word frequencies."""
    unknown = [n for n in names if n not in TASKS]
    if unknown or not names:
        raise ValueError(f"language_tasks: unknown or no task names {unknown or list(names)}; "
                         f"choose from {', '.join(TASKS)}")
    words, probabilities = word_frequencies(pretraining_pages)
    makers = {"acceptability": acceptability_task, "pair": pair_task,
              "cloze choice": lambda: cloze_choice_task(words, probabilities),
              "cloze": cloze_task, "intruder": lambda: intruder_task(words, probabilities)}
    return {name: makers[name]() for name in names}
