"""Chapter 6 exercises: every task as text in, text out (paper §2.4).

T5 casts each task as feeding the model some text and training it to produce some text:
a prefix names the task, classification labels become words, and even the one regression task
(STS-B) becomes text. Grade with `make grade EX=6.1` or `minit5 grade 6`.
"""


def stsb_to_string(x):
    """Exercise 6.1: an STS-B similarity score as the text the model learns to write (§2.4).

    STS-B scores run from 0 to 5. T5 rounds them to the nearest multiple of 0.2 and prints one
    decimal, which turns the regression into 26 classes: round(x * 5) / 5, formatted with one
    decimal place. Python's round() sends halves to the even integer, as the reference
    preprocessing does: 2.57 -> "2.6", 0.5 -> "0.4", 1.5 -> "1.6". Never print "-0.0"
    (np.round(-0.25) is -0.0; adding 0.0 makes it 0.0).

    Args:
        x: a finite score, a Python float or a NumPy float.

    Returns:
        A string such as "2.6".
    """
    # TODO: Exercise 6.1
    raise NotImplementedError("Exercise 6.1")


def string_to_stsb(s):
    """Exercise 6.2: read a model's STS-B output back as a number (§2.4).

    A generated string is only text: it may be "2.6", " 3.0 ", or "entailment". Strip
    surrounding whitespace and parse it the way Python's float() does. Anything float() rejects,
    and nan or infinite values, are not a score: return None (the paper counts such outputs as
    wrong).

    Args:
        s: a string.

    Returns:
        A float, or None.
    """
    # TODO: Exercise 6.2
    raise NotImplementedError("Exercise 6.2")


def glue_format(task, fields):
    """Exercise 6.3: a GLUE example as one input string (§2.4, Appendix D).

    The input is the task name followed by each field as "key: value", separated by single
    spaces, with the keys in sorted (alphabetical) order whatever order `fields` has:
        glue_format("mnli", {"premise": "P", "hypothesis": "H"}) == "mnli hypothesis: H premise: P"

    Args:
        task: the task's name, e.g. "mnli", "cola".
        fields: a non-empty dict, field name -> text.

    Returns:
        The input string.
    """
    # TODO: Exercise 6.3
    raise NotImplementedError("Exercise 6.3")
