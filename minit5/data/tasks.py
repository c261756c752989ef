"""Text-to-text formats (paper §2.4) and small synthetic tasks that need no download.

§2.4: every task is cast as "text in, text out". A task prefix tells the model which task it is
doing ("translate English to German: ", "summarize: "); GLUE inputs are written as the task name
followed by each field as "key: value", keys in alphabetical order ("mnli hypothesis: ... premise:
..."); classification labels become words ("entailment"); and the one regression task, STS-B, is
turned into 26 classes by rounding the 0-5 score to the nearest 0.2 and printing it ("2.6"). Any
output that is not a valid label or number simply counts as wrong.

The synthetic tasks below follow the same formats so a tiny T5 can learn them on a CPU in
minutes: a classification task (`polarity`, SST-2-like), a regression-as-text task (`similarity`,
STS-B-like), two rewrites (`reverse`, and `pig_latin` as a translation), and an extraction task
(`lookup`, SQuAD-like). Each is deterministic given a `numpy.random.Generator` and has an exact
metric. Inputs are at most 17 words: with a 4,000-piece tokenizer trained on `builtin_corpus`
that is at most about 42 tokens (mean 14-33 by task), with 1,000 pieces at most about 57.
"""
from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from minit5.data.metrics import METRICS, accuracy, exact_match, pearson, spearman, token_f1

# --- formats (§2.4) --------------------------------------------------------------------------

UNLABELLED = -1             # the label of a test-split example
UNKNOWN_TARGET = "<unk>"    # its target text (t5's choice)

def glue_format(task: str, fields: Mapping[str, str],
                feature_names: Sequence[str] | None = None) -> str:
    """`"{task} {key}: {value} ..."` with the keys in alphabetical order, as T5 feeds GLUE
    and SuperGLUE: glue_format("mnli", {"premise": p, "hypothesis": h}) ->
    "mnli hypothesis: {h} premise: {p}". `feature_names` gives another order (and picks the
    fields), as t5 does for MultiRC and WiC. "label" and "idx" are never part of the input."""
    if not task or not isinstance(task, str):
        raise ValueError(f"glue_format: task must be a non-empty name like 'mnli', got {task!r}")
    keys = list(feature_names) if feature_names is not None else sorted(
        set(fields) - {"label", "idx"})
    if not keys:
        raise ValueError("glue_format: fields is empty; pass e.g. {'sentence': '...'}")
    missing = [key for key in keys if key not in fields]
    if missing:
        raise KeyError(f"glue_format({task!r}): missing fields {missing}; the example has "
                       f"{sorted(fields)}")
    return " ".join([task] + [f"{key}: {fields[key]}" for key in keys])


def glue(task: str, example: Mapping, label_names: Sequence[str] | None = None,
         feature_names: Sequence[str] | None = None) -> tuple[str, str]:
    """One GLUE / SuperGLUE example as (input, target), the t5 library's `glue` preprocessor.

    The input is `glue_format(task, example, feature_names)`; the target is the name of class
    `example["label"]` (`label_names`, default `LABEL_NAMES[task]`), and "<unk>" for label -1,
    which is how the unlabelled test splits are marked, so they can be formatted for
    prediction. For MultiRC the paragraph's HTML is removed ("<br>" -> space, "<b>", "</b>" ->
    nothing), as in t5.
    Example: glue("qqp", {"q1": "How so?", "q2": "Why not?", "label": 0},
    ["not_duplicate", "duplicate"]) -> ("qqp q1: How so? q2: Why not?", "not_duplicate").
    """
    if "label" not in example:
        raise KeyError(f"glue({task!r}): the example has no 'label' (use -1 for unlabelled "
                       f"test examples); it has {sorted(example)}")
    names = tuple(label_names) if label_names is not None else _label_names(task)
    text = glue_format(task, example, feature_names)
    if task == "multirc":
        text = re.sub("<(/)?b>", "", text.replace("<br>", " "))
    return text, _label_or_unk(names, example["label"], task)


def _label_or_unk(names: Sequence[str], label, task: str) -> str:
    label = int(label)
    if label == UNLABELLED:
        return UNKNOWN_TARGET
    if not 0 <= label < len(names):
        raise ValueError(f"label {label} is out of range for {task!r}, which has labels "
                         f"0..{len(names) - 1}: {tuple(names)} (or -1 for unlabelled)")
    return names[label]


def pad_punctuation(text: str) -> str:
    """Spaces around every ASCII punctuation mark, whitespace collapsed (the t5 library's
    `_pad_punctuation`, used for SQuAD): '"This  is (1845-1986)".' ->
    ' " This is ( 1845 - 1986 ) " . '."""
    text = re.sub(f"([{re.escape(string.punctuation)}])", r" \1 ", text)
    return re.sub(r"\s+", " ", text)


def squad_format(question: str, context: str) -> str:
    """SQuAD as text, as the t5 library writes it: `"question: {q} context: {c}"` with the
    punctuation of both padded by spaces (`pad_punctuation`):
    squad_format("A question?", "Some context.")
      -> "question: A question ? context: Some context . ".
    """
    return re.sub(r"\s+", " ", " ".join(["question:", pad_punctuation(question), "context:",
                                         pad_punctuation(context)]))


def squad(question: str, context: str, answers: Sequence[str]) -> tuple[str, list[str]]:
    """A SQuAD example as (input, answers), both padded as t5 pads them; the first answer is the
    training target, all of them the references for `metrics.squad`."""
    if not answers:
        raise ValueError("squad: no answers; a SQuAD training example needs at least one")
    return squad_format(question, context), [pad_punctuation(a) for a in answers]


def translate(text: str, src: str = "English", tgt: str = "German") -> str:
    """Prefix a translation input: `"translate English to German: {text}"`."""
    return f"translate {src} to {tgt}: {text}"


def summarize(text: str) -> str:
    """Prefix a summarisation input: `"summarize: {text}"`."""
    return f"summarize: {text}"


# --- STS-B: regression as text (§2.4) ----------------------------------------------------------

def stsb_to_string(x: float) -> str:
    """Round a 0-5 similarity score to the nearest 0.2 and print one decimal: 2.57 -> "2.6".

    Rounding is `round(x * 5) / 5`; Python's `round` sends halves to the even integer, so
    0.5 -> "0.4" (2.5 rounds to 2) while 1.5 -> "1.6" (7.5 rounds to 8), as NumPy's does in the
    reference preprocessing.
    """
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"stsb_to_string: score must be a finite number, got {x!r}")
    return f"{round(x * 5) / 5 + 0.0:.1f}"  # + 0.0 turns -0.0 into 0.0


def string_to_stsb(s: str) -> float | None:
    """Parse a model's STS-B output; None if it is not a finite number (that counts as wrong)."""
    try:
        value = float(s.strip())
    except (ValueError, AttributeError):
        return None
    return value if math.isfinite(value) else None


# --- classification labels as words -------------------------------------------------------------

# Label names in label-index order, as in the GLUE and SuperGLUE datasets (index 0 first).
LABEL_NAMES: dict[str, tuple[str, ...]] = {
    "cola": ("unacceptable", "acceptable"),
    "sst2": ("negative", "positive"),
    "mrpc": ("not_equivalent", "equivalent"),
    "qqp": ("not_duplicate", "duplicate"),
    "mnli": ("entailment", "neutral", "contradiction"),
    "qnli": ("entailment", "not_entailment"),
    "rte": ("entailment", "not_entailment"),
    "wnli": ("not_entailment", "entailment"),
    "ax": ("entailment", "neutral", "contradiction"),     # diagnostics, read as MNLI
    "boolq": ("False", "True"),
    "cb": ("entailment", "contradiction", "neutral"),
    "copa": ("choice1", "choice2"),
    "multirc": ("False", "True"),
    "wic": ("False", "True"),
    "wsc": ("False", "True"),
    "axb": ("entailment", "not_entailment"),              # diagnostics, read as RTE
    "axg": ("entailment", "not_entailment"),
    "polarity": ("negative", "positive"),  # the synthetic task below
}


def _label_names(task: str) -> tuple[str, ...]:
    if task not in LABEL_NAMES:
        raise KeyError(f"no label names for task {task!r}; known: {sorted(LABEL_NAMES)} "
                       f"(add yours to LABEL_NAMES)")
    return LABEL_NAMES[task]


def label_to_string(task: str, label: int) -> str:
    """The word for class `label` of `task`: label_to_string("mnli", 2) -> "contradiction";
    label -1 (an unlabelled test example) -> "<unk>", as in the t5 library."""
    return _label_or_unk(_label_names(task), label, task)


def string_to_label(task: str, s: str) -> int | None:
    """The class index of a model's output; None for anything that is not a label (wrong)."""
    names = _label_names(task)
    s = s.strip() if isinstance(s, str) else s
    return names.index(s) if s in names else None


# --- a task: how to make examples, read answers and score them ---------------------------------

Example = tuple[str, str]           # (input_text, target_text)


@dataclass(frozen=True)
class Task:
    """A text-to-text task: how its examples are made, what answers it offers, how a prediction
    is read and how predictions are scored. Every task of minit5 is one: the synthetic tasks
    below, a task file's (`task_files.file_task`) and the miniature benchmark's language tasks
    (`minit5.experiments.language_tasks`); `minit5.train.evaluate.evaluate` scores any of them.

    Examples are made one of two ways:
      make_example(rng) -> (input, target), one example drawn using only `rng` (the synthetic
        tasks, a task file); `make_examples(n, rng)` draws n.
      make_from_text(text, rng) -> (input, target), one example made from a given sentence
        (the language tasks, whose sentences come from fixed corpus splits);
        `examples(texts, rng)` makes one per text.
    metric(predictions, targets) -> {score name: value}, each computed exactly (no sampling).
    choices(input) -> the options that input offers, the target among them; the model's answer
      is then the option it finds likeliest (rank classification), not a greedy decoding.
      None: the answer is decoded greedily.
    postprocess(prediction) -> the text the metric reads (say, surrounding whitespace
      removed); None reads the prediction as written. Targets are never postprocessed.
    primary: the score that stands for the task in an average over tasks (None: not named).
    """
    name: str
    prefix: str
    make_example: Callable[[np.random.Generator], Example] | None
    metric: Callable[[Sequence[str], Sequence[str]], dict]
    choices: Callable[[str], list[str]] | None = None
    postprocess: Callable[[str], str] | None = None
    primary: str | None = None
    make_from_text: Callable[[str, np.random.Generator], Example] | None = None

    def __post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"Task: name must be a non-empty string, got {self.name!r}")
        if self.make_example is None and self.make_from_text is None:
            raise ValueError(f"Task {self.name!r}: give make_example(rng) or "
                             f"make_from_text(text, rng), the way its examples are made")
        for field in ("make_example", "metric", "choices", "postprocess", "make_from_text"):
            value = getattr(self, field)
            if value is not None and not callable(value):
                raise TypeError(f"Task {self.name!r}: {field} must be a function, got "
                                f"{type(value).__name__}")
        if self.metric is None:
            raise ValueError(f"Task {self.name!r}: metric is required, e.g. "
                             f"minit5.data.metrics.get_metric('exact_match')")

    def make_examples(self, n: int, rng: np.random.Generator) -> list[Example]:
        """`n` examples drawn with `rng`; the same generator state gives the same examples."""
        if self.make_example is None:
            raise TypeError(f"task {self.name!r} makes its examples from given sentences: "
                            f"call examples(texts, rng)")
        _check_rng(rng, f"{self.name}.make_examples")
        if int(n) != n or n < 0:
            raise ValueError(f"{self.name}.make_examples: n must be a whole number >= 0, got {n}")
        return [self.make_example(rng) for _ in range(int(n))]

    def examples(self, texts: Sequence[str], rng: np.random.Generator) -> list[Example]:
        """One example per text, made in order with `rng`; the same texts and generator state
        give the same examples."""
        if self.make_from_text is None:
            raise TypeError(f"task {self.name!r} draws its own examples: call "
                            f"make_examples(n, rng)")
        _check_rng(rng, f"{self.name}.examples")
        return [self.make_from_text(text, rng) for text in texts]

    def score(self, predictions: Sequence[str], targets: Sequence[str]) -> dict[str, float]:
        """The metric of the postprocessed predictions against the targets, as floats."""
        if self.postprocess is not None:
            predictions = [self.postprocess(p) for p in predictions]
        return {k: float(v) for k, v in self.metric(predictions, targets).items()}


def _check_rng(rng, where: str) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{where}: rng must be a numpy.random.Generator, e.g. "
                        f"numpy.random.default_rng(0); got {type(rng).__name__}")


# --- word lists (small, common, written for this module) ---------------------------------------

NAMES = ("ann", "bob", "tom", "max", "eve", "ted", "ian", "ben", "pat", "dan", "sue", "amy",
         "leo", "ray", "ada", "tim", "kim", "joe", "sam", "liz")
COLORS = ("red", "blue", "green", "black", "white", "brown", "pink", "gray", "gold")
OBJECTS = ("box", "cup", "hat", "book", "lamp", "key", "coat", "bag", "ball", "pen", "ring",
           "sock", "chair", "clock", "kite", "map", "mug", "shoe", "bike", "drum")
NOUNS = ("house", "river", "garden", "window", "table", "city", "road", "tree", "child", "dog",
         "cat", "horse", "bird", "apple", "bread", "water", "paper", "letter", "music", "story",
         "train", "boat", "door", "field", "light", "night", "morning", "friend", "teacher", "song")
VERBS = ("walks", "reads", "sings", "writes", "opens", "finds", "brings", "sees", "holds",
         "likes", "makes", "takes", "gives", "keeps", "calls", "builds", "paints", "plays")
POSITIVE = ("good", "great", "happy", "lovely", "bright", "kind", "warm", "fine", "nice",
            "wonderful", "pleasant", "charming", "cheerful", "superb", "brilliant")
NEGATIVE = ("bad", "awful", "sad", "ugly", "dull", "cruel", "cold", "poor", "nasty",
            "terrible", "gloomy", "boring", "dreadful", "rotten", "horrible")
WORDS = NOUNS + VERBS + OBJECTS + COLORS  # the default vocabulary for the rewrite tasks


def _pick(rng: np.random.Generator, words: Sequence[str]) -> str:
    return words[int(rng.integers(len(words)))]


def _sample(rng: np.random.Generator, words: Sequence[str], k: int) -> list[str]:
    """`k` distinct entries of `words`, in random order."""
    return [words[int(i)] for i in rng.choice(len(words), size=k, replace=False)]


def _check_targets(parsed: list, targets: Sequence[str], task: str) -> None:
    """A target that does not parse is a bug in the data, not a model error: say so."""
    for value, target in zip(parsed, targets):
        if value is None:
            raise ValueError(f"{task} metric: target {target!r} is not a valid {task} target; "
                             f"pass (predictions, targets) in that order")


def _shuffled(rng: np.random.Generator, items: list) -> list:
    return [items[int(i)] for i in rng.permutation(len(items))]


# --- (a) classification: polarity, like SST-2 ----------------------------------------------------

def polarity_task() -> Task:
    """Filler words with 1 or 3 sentiment words mixed in; the label is the majority sentiment.
    "polarity sentence: river good takes cold kind" -> "positive". Metric: accuracy."""
    def make_example(rng):
        n_sentiment = int(rng.choice([1, 3]))
        n_positive = int(rng.integers(n_sentiment + 1))
        words = (_sample(rng, POSITIVE, n_positive)
                 + _sample(rng, NEGATIVE, n_sentiment - n_positive)
                 + _sample(rng, NOUNS + VERBS, int(rng.integers(2, 5))))
        label = int(n_positive > n_sentiment - n_positive)
        sentence = " ".join(_shuffled(rng, words))
        return glue_format("polarity", {"sentence": sentence}), label_to_string("polarity", label)

    def metric(predictions, targets):
        predicted = [string_to_label("polarity", p) for p in predictions]
        wanted = [string_to_label("polarity", t) for t in targets]
        _check_targets(wanted, targets, "polarity")
        return {"accuracy": accuracy(predicted, wanted)}

    return Task("polarity", "polarity sentence: ", make_example, metric)


# --- (b) regression as text: similarity, like STS-B ----------------------------------------------

# An STS-B output that does not parse is scored as this value, far below the 0-5 range, as the
# T5 code's float post-processing does.
UNPARSEABLE_SCORE = -1.0


def similarity_task() -> Task:
    """Two bags of 3-5 nouns; the score is 5 * shared / (length of the longer), written with
    `stsb_to_string`. "similarity sentence1: ... sentence2: ..." -> "3.4".
    Metrics: Pearson and Spearman correlation (in [-1, 1]) and the fraction that parsed."""
    def make_example(rng):
        n1, n2 = int(rng.integers(3, 6)), int(rng.integers(3, 6))
        shared = int(rng.integers(min(n1, n2) + 1))
        pool = _sample(rng, NOUNS + OBJECTS, n1 + n2 - shared)
        first = pool[:n1]
        second = _shuffled(rng, first[:shared] + pool[n1:])
        score = 5 * shared / max(n1, n2)
        text = glue_format("similarity", {"sentence1": " ".join(first),
                                          "sentence2": " ".join(second)})
        return text, stsb_to_string(score)

    def metric(predictions, targets):
        parsed = [string_to_stsb(p) for p in predictions]
        scores = [UNPARSEABLE_SCORE if v is None else v for v in parsed]
        wanted = [string_to_stsb(t) for t in targets]
        _check_targets(wanted, targets, "similarity")
        return {"pearson": pearson(scores, wanted),
                "spearman": spearman(scores, wanted),
                "parsed": sum(v is not None for v in parsed) / len(parsed)}

    return Task("similarity", "similarity sentence1: ", make_example, metric)


# --- (c) rewrites: word reversal and Pig Latin ------------------------------------------------

def reverse_task(words: Sequence[str] = WORDS) -> Task:
    """3-6 words in, the same words in reverse order out. "reverse: a b c" -> "c b a"."""
    words = tuple(words)

    def make_example(rng):
        sentence = _sample(rng, words, int(rng.integers(3, 7)))
        return "reverse: " + " ".join(sentence), " ".join(reversed(sentence))

    return Task("reverse", "reverse: ", make_example, METRICS["exact_match"])


def pig_latin(word: str) -> str:
    """One lower-case word in Pig Latin.

    A word that starts with a vowel gets "way" ("apple" -> "appleway"); otherwise the consonants
    before the first vowel move to the end, then "ay" ("string" -> "ingstray"). "y" after the
    first letter counts as a vowel ("rhythm" -> "ythmrhay"), "qu" moves as one ("queen" ->
    "eenquay"), and a word with no vowel just gets "ay".
    """
    if not word:
        return word
    if word[0] in "aeiou":
        return word + "way"
    for i in range(1, len(word)):
        if word[i] in "aeiouy" and not (word[i] == "u" and word[i - 1] == "q"):
            return word[i:] + word[:i] + "ay"
    return word + "ay"


def pig_latin_task(words: Sequence[str] = WORDS) -> Task:
    """A word-level cipher posed as translation:
    "translate English to Pig Latin: red book" -> "edray ookbay". Metric: exact match."""
    words = tuple(words)
    prefix = translate("", "English", "Pig Latin")

    def make_example(rng):
        sentence = _sample(rng, words, int(rng.integers(3, 7)))
        return prefix + " ".join(sentence), " ".join(pig_latin(w) for w in sentence)

    return Task("pig_latin", prefix, make_example, METRICS["exact_match"])


# --- (d) extraction: lookup, like SQuAD -------------------------------------------------------

def lookup_task(n_facts: int = 2) -> Task:
    """A context of `n_facts` facts "ann has a red box." and a question whose answer is a span
    of it: "what does ann have?" -> "red box", or "who has the red box?" -> "ann". The input
    is laid out as SQuAD's "question: ... context: ..." without t5's punctuation padding.
    Metrics: exact match and word-overlap F1. (Each fact adds about 8-12 tokens.)"""
    if not 1 <= n_facts <= len(NAMES):
        raise ValueError(f"lookup_task: n_facts must be 1..{len(NAMES)}, got {n_facts}")
    things = [f"{color} {thing}" for color in COLORS for thing in OBJECTS]

    def make_example(rng):
        people = _sample(rng, NAMES, n_facts)
        owned = _sample(rng, things, n_facts)
        context = " ".join(f"{who} has a {what}." for who, what in zip(people, owned))
        i = int(rng.integers(n_facts))
        if rng.integers(2) == 0:
            return f"question: what does {people[i]} have? context: {context}", owned[i]
        return f"question: who has the {owned[i]}? context: {context}", people[i]

    def metric(predictions, targets):
        return {"exact_match": exact_match(predictions, targets),
                "f1": token_f1(predictions, targets)}

    return Task("lookup", "question: ", make_example, metric)


def synthetic_tasks(words: Sequence[str] | None = None) -> dict[str, Task]:
    """All synthetic tasks by name. `words` (e.g. `corpus_vocabulary(builtin_corpus())[:2000]`)
    replaces the built-in word list for the rewrite tasks."""
    words = WORDS if words is None else tuple(dict.fromkeys(words))
    if len(words) < 6:
        raise ValueError(f"synthetic_tasks: words needs at least 6 distinct words, "
                         f"got {len(words)}")
    tasks = [polarity_task(), similarity_task(), reverse_task(words), pig_latin_task(words),
             lookup_task()]
    return {task.name: task for task in tasks}
