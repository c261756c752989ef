"""Postprocessors: a model's output text -> the value its metric reads (the t5 library's
`t5/data/postprocessors.py`).

A text-to-text model can write anything, so each task says how to read its output, and what an
output that is no valid answer becomes: -1 for a label (it then counts as wrong), -1.0 for a
number. Targets pass through the same function (`is_target=True`), sometimes with fields of
the example that the model never saw (a question id to group by, the list of correct answers).
"""
from __future__ import annotations

from typing import Mapping, Sequence

INVALID_LABEL = -1       # an output that is not one of the labels
INVALID_FLOAT = -1.0     # an output that is not a number (far below STS-B's 0-5 range)


def string_to_float(text: str, default: float | None = INVALID_FLOAT) -> float | None:
    """float(text), or `default` if it is not a number: "10." -> 10.0, "asdf" -> -1.0."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


def lower_text(text: str) -> str:
    """Lower-case the output: "TeST" -> "test"."""
    return text.lower()


def string_label_to_class_id(text: str, label_classes: Sequence[str],
                             default: int = INVALID_LABEL) -> int:
    """The index of `text` in `label_classes`, else `default`:
    ("two", ["one", "two"]) -> 1; ("foo", ["one", "two"]) -> -1."""
    label_classes = list(label_classes)
    return label_classes.index(text) if text in label_classes else default


def multirc(text: str, example: Mapping | None = None, is_target: bool = False) -> dict:
    """MultiRC: {"value": 0 for "False", 1 for "True", else -1}; a target also carries its
    question id, {"group": example["idx/question"]}, so `metrics.multirc` can group answers."""
    result = {"value": string_label_to_class_id(text, ("False", "True"))}
    if is_target:
        result["group"] = _field(example, "idx/question", "multirc")
    return result


def record(text: str, example: Mapping | None = None, is_target: bool = False) -> dict:
    """ReCoRD: a prediction is {"value": text}; a target is {"value": all correct answers,
    "group": (idx/passage, idx/query)}, for `metrics.record`."""
    if not is_target:
        return {"value": text}
    return {"value": _texts(_field(example, "answers", "record")),
            "group": (_field(example, "idx/passage", "record"),
                      _field(example, "idx/query", "record"))}


def qa(text: str, example: Mapping | None = None, is_target: bool = False):
    """SQuAD-style QA: a prediction is its text; a target is the list of all answers."""
    if is_target:
        return _texts(_field(example, "answers", "qa"))
    return text


# Words that do not change which noun phrase a WSC answer names ("the cat" is "cat").
_DETERMINERS = frozenset({"a", "an", "few", "her", "his", "each", "every", "many", "much", "my",
                          "our", "some", "that", "the", "their", "these", "this", "those",
                          "which", "whose", "your"})


def _without_determiners(text: str) -> str:
    return " ".join(w for w in text.strip().lower().split(" ") if w not in _DETERMINERS)


def wsc_simple(text: str, example: Mapping | None = None, is_target: bool = False) -> int:
    """WSC / DPR in the "simple" format (§2.4): did the model name the candidate referent?

    A target is the example's label (1 if the candidate is the pronoun's referent, else 0, -1
    unlabelled). A prediction is 1 if, ignoring case and determiners, its words are a subset
    or a superset of the candidate's ("fuzzy bunny" names "fuzzy hungry bunny"), 0 if not,
    0 if only one of the two is possessive ("Bob's hat" is not "Bob"), and -1 if nothing is
    left of it ("", "a this"), so an empty answer never matches label 0 by accident.
    """
    if is_target:
        return int(_field(example, "label", "wsc_simple"))
    prediction = _without_determiners(text)
    if not prediction:
        return INVALID_LABEL
    referent = _without_determiners(_field(example, "targets_pretokenized", "wsc_simple"))
    if ("'" in prediction) != ("'" in referent):
        return 0
    predicted, wanted = set(prediction.split(" ")), set(referent.split(" "))
    return int(predicted <= wanted or wanted <= predicted)


def _field(example: Mapping | None, key: str, name: str):
    if example is None or key not in example:
        have = sorted(example) if example is not None else "no example"
        raise KeyError(f"postprocessor {name} needs the example's {key!r} field; got {have}")
    value = example[key]
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _texts(values) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else v for v in values]
