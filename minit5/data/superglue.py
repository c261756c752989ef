"""SuperGLUE and the Winograd tasks as text (paper §2.4), as the t5 library formats them.

Most SuperGLUE tasks take the GLUE layout (`tasks.glue`): "boolq passage: ... question: ...",
"cb hypothesis: ... premise: ...", "copa choice1: ... choice2: ... premise: ... question: ...",
"rte ...", with the label as a word; MultiRC and WiC fix their field order. Three need more:

* ReCoRD (`record`): the query, the candidate entities and the passage in one input, one
  example per correct entity (its `@highlight` markers turned into sentence breaks).
* WSC (`wsc`): the candidate noun is marked with `*` and the pronoun with `#`; the target is
  "True" or "False".
* The Winograd recast of §2.4 ("simple" format): the pronoun is highlighted with asterisks and
  the model writes the noun it refers to: "wsc: The city councilmen refused the demonstrators
  a permit because *they* feared violence." -> "The city councilmen". WSC (`wsc_simple`), DPR
  (`dpr_simple`) and GLUE's WNLI (`wnli_simple`, which has to find the pronoun and the noun by
  comparing its two sentences) are all cast this way, and `postprocessors.wsc_simple` scores
  the answer.
"""
from __future__ import annotations

import re
from typing import Mapping

from minit5.data.tasks import LABEL_NAMES, UNKNOWN_TARGET, glue

# Tasks whose input fields t5 orders by hand instead of alphabetically.
FEATURE_NAMES = {"multirc": ("question", "answer", "paragraph"),
                 "wic": ("sentence1", "sentence2", "word")}
# The diagnostic sets are read as the task they test.
BENCHMARK_NAME = {"axb": "rte", "axg": "rte", "ax": "mnli"}
SIMPLE_PREFIX = "wsc:"


def superglue(task: str, example: Mapping) -> tuple[str, str]:
    """(input, target) of a BoolQ, CB, COPA, MultiRC, RTE, WiC, AX-b or AX-g example, e.g.
    superglue("wic", {"sentence1": s1, "sentence2": s2, "word": w, "label": 1}) ->
    ("wic sentence1: {s1} sentence2: {s2} word: {w}", "True"). Label -1 -> "<unk>"."""
    if task in ("record", "wsc"):
        raise ValueError(f"superglue: {task} has its own format; call superglue.{task}(example)")
    name = BENCHMARK_NAME.get(task, task)
    if task not in LABEL_NAMES:
        raise KeyError(f"superglue: unknown task {task!r}; known: boolq, cb, copa, multirc, rte, "
                       f"wic, axb, axg (and record, wsc, wsc_simple, dpr_simple, wnli_simple)")
    fields = {k: v for k, v in example.items() if not k.startswith("idx")}
    return glue(name, fields, LABEL_NAMES[task], FEATURE_NAMES.get(task))


def _record_passage(passage: str) -> str:
    passage = re.sub(r"(\.|\?|!|\"|')\n@highlight\n", r"\1 ", passage)
    return passage.replace("\n@highlight\n", ". ")


def record(example: Mapping) -> list[tuple[str, str]]:
    """ReCoRD as t5 writes it: one (input, target) per correct entity, all with the input
    "record query: {query} entities: {e1, e2, ...} passage: {passage}"; an example with no
    answers (the test split) gives one pair with target "<unk>". Score with `metrics.record`,
    grouping the pairs of one query."""
    for key in ("query", "entities", "passage"):
        if key not in example:
            raise KeyError(f"record: the example has no {key!r}; it has {sorted(example)}")
    text = " ".join(["record query:", example["query"], "entities:",
                     ", ".join(example["entities"]), "passage:",
                     _record_passage(example["passage"])])
    answers = list(example.get("answers", []))
    return [(text, answer) for answer in answers] or [(text, UNKNOWN_TARGET)]


def _mark_word(text: str, word_index: int, span: str, mark: str) -> str:
    """Put `mark` around `span` where it starts at word `word_index` (t5's `_mark_span`)."""
    pattern = r"^((?:\S+\s){%d})(%s)" % (word_index, re.escape(span))
    marked, count = re.subn(pattern, lambda m: f"{m.group(1)}{mark} {m.group(2)} {mark}", text)
    if count == 0:
        raise ValueError(f"wsc: {span!r} is not at word {word_index} of {text!r}; check "
                         f"span1_index/span2_index")
    return marked


def wsc(example: Mapping) -> tuple[str, str]:
    """SuperGLUE WSC in t5's marked format: the noun (span1) between `*`, the pronoun (span2)
    between `#`; the target says whether the pronoun refers to the noun.
    {"text": "This is a test sentence .", "span1_text": "test", "span1_index": 3,
     "span2_text": "This", "span2_index": 0, "label": 0}
      -> ("wsc text: # This # is a * test * sentence .", "False")."""
    text = _mark_word(example["text"], example["span1_index"], example["span1_text"], "*")
    # marking span 1 added two words before span 2 if span 2 comes later
    span2_index = example["span2_index"] + 2 * (example["span1_index"] < example["span2_index"])
    text = _mark_word(text, span2_index, example["span2_text"], "#")
    label = int(example["label"])
    target = UNKNOWN_TARGET if label == -1 else LABEL_NAMES["wsc"][label]
    return f"wsc text: {text}", target


def wsc_simple(example: Mapping) -> tuple[str, str]:
    """SuperGLUE WSC recast (§2.4): the pronoun (span2, at word span2_index) between
    asterisks, the candidate noun (span1) as the target, whether or not it is the referent
    (train only on label-1 examples; score with `postprocessors.wsc_simple`).
    {"text": "Mitchell asked Tom if he could lend some money.", "span1_text": "Tom",
     "span2_text": "he", "span2_index": 4}
      -> ("wsc: Mitchell asked Tom if *he* could lend some money.", "Tom").
    t5 hard-codes fixes for two WSC training texts whose pronoun index is wrong; here such an
    example is a ValueError naming it.
    """
    words = example["text"].split(" ")
    index = int(example["span2_index"])
    if not 0 < index < len(words) - 1 or words[index] != example["span2_text"]:
        raise ValueError(f"wsc_simple: word {index} of {example['text']!r} is not the pronoun "
                         f"{example['span2_text']!r} (or it is the first or last word)")
    words[index] = f"*{example['span2_text']}*"
    return f"{SIMPLE_PREFIX} {' '.join(words)}", example["span1_text"]


def dpr_simple(example: Mapping) -> tuple[str, str]:
    """The Definite Pronoun Resolution data set recast (§2.4): the first occurrence of the
    pronoun as a word (before a space, "." or ",") between asterisks; the target is the
    correct candidate. {"sentence": "Mitchell asked Tom if he could lend some money.",
    "pronoun": "he", "candidates": ["Mitchell", "Tom"], "label": 1}
      -> ("wsc: Mitchell asked Tom if *he* could lend some money.", "Tom")."""
    pattern = r" (%s)( |\.|,)" % re.escape(example["pronoun"])
    sentence, count = re.subn(pattern, r" *\1*\2", example["sentence"], count=1)
    if count == 0:
        raise ValueError(f"dpr_simple: pronoun {example['pronoun']!r} is not a word of "
                         f"{example['sentence']!r}")
    return f"{SIMPLE_PREFIX} {sentence}", example["candidates"][int(example["label"])]


# ---- WNLI: find the pronoun and its referent by comparing premise and hypothesis ----------------

_PRONOUNS = ("he", "she", "they", "it", "her", "his", "their", "them", "him")
_END_PUNCTUATION = (".", ",", "!", "?")


def _clean_words(sentence: str) -> list[str]:
    """Lower-case words without a trailing . , ? or !"""
    words = [re.sub(r"(\.|,|\?|!)$", "", w) for w in sentence.strip().lower().split(" ")]
    return [w for w in words if w]


def _longest_prefix_inside(words: list[str], hypothesis: list[str]) -> int:
    """How many leading `words` form a substring of the hypothesis (as joined text)."""
    joined = " ".join(hypothesis)
    for i in range(len(words)):
        if " ".join(words[:i + 1]) not in joined:
            return i
    return len(words)


def _match_pronoun(premise: list[str], hypothesis: list[str], index: int):
    """(score, candidate) for the pronoun at premise[index]: the words around it that the
    hypothesis repeats, and what the hypothesis has in the pronoun's place."""
    before, after = premise[:index], premise[index + 1:]
    n_before = _longest_prefix_inside(before[::-1], hypothesis[::-1])   # suffix of `before`
    n_after = _longest_prefix_inside(after, hypothesis)
    score = n_before + n_after
    if not score:
        return 0, ""
    left, right = before[len(before) - n_before:], after[:n_after]
    joined = " ".join(hypothesis)
    escaped_left, escaped_right = [re.escape(w) for w in left], [re.escape(w) for w in right]
    for pattern in (" ".join(escaped_left + ["(.+)"] + escaped_right),
                    " ".join(["^(.+)"] + escaped_right),      # the referent opens the sentence
                    " ".join(escaped_left + ["(.+)$"])):      # the referent closes it
        found = re.search(pattern, joined)
        if found:
            return score, found.group(1)
    return score, ""


def _referent_as_written(candidate: str, hypothesis: str) -> str:
    """The candidate as the hypothesis writes it: from its last article on, original case,
    no trailing punctuation, not possessive ("Donna's" -> "Donna")."""
    words = candidate.split(" ")
    start = max([words.index(a) for a in ("a", "an", "the") if a in words] or [0])
    pattern = " ".join(r"%s(?:\.|,|\?|!)?" % re.escape(w) for w in words[start:])
    found = re.search(f"({pattern})", hypothesis, re.IGNORECASE)
    if not found:
        raise ValueError(f"wnli_simple: could not find {candidate!r} in the hypothesis "
                         f"{hypothesis!r}")
    referent = found.group(1)
    if referent.endswith(_END_PUNCTUATION):
        referent = referent[:-1]
    if referent.endswith("'s"):
        return referent[:-2]
    return referent[:-1] if referent.endswith("'") else referent


def _highlight(sentence: str, index: int) -> str:
    words = sentence.split(" ")
    word = words[index]
    if word[-1] in _END_PUNCTUATION:
        words[index] = f"*{word[:-1]}* {word[-1]}"
    else:
        words[index] = f"*{word}*"
    return " ".join(words)


def wnli_simple(premise: str, hypothesis: str) -> tuple[str, str]:
    """GLUE's WNLI recast as WSC (§2.4; the t5 library's `wnli_simple`). WNLI asks whether the
    hypothesis (the premise with a pronoun replaced by a noun) follows; recast, the pronoun is
    highlighted and the target is the noun the hypothesis put in its place:
    ("The fish ate the worm. It was tasty.", "The worm was tasty.")
      -> ("wsc: The fish ate the worm. *It* was tasty.", "The worm").
    The pronoun chosen is the one whose neighbouring words the hypothesis repeats most (the
    first such on a tie). t5 uses this only to evaluate (the WNLI training set overlaps WSC's).
    """
    premise_words, hypothesis_words = _clean_words(premise), _clean_words(hypothesis)
    indices = [i for i, w in enumerate(premise_words) if w in _PRONOUNS]
    if not indices:
        raise ValueError(f"wnli_simple: no pronoun ({', '.join(_PRONOUNS)}) in {premise!r}")
    best_score, best_index, best_candidate = -1, None, ""
    for index in indices:
        score, candidate = _match_pronoun(premise_words, hypothesis_words, index)
        if score > best_score:
            best_score, best_index, best_candidate = score, index, candidate
    target = _referent_as_written(best_candidate, hypothesis)
    return f"{SIMPLE_PREFIX} {_highlight(premise, best_index)}", target
