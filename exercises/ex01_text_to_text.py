"""Chapter 1 exercises: every task as text in, text out (paper §2.4).

The chapter turns raw examples into (input, target) strings: `glue_format` for the inputs and
the label names for the targets. These exercises write the pieces it borrowed from the library:
the STS-B score as text and back, and a label word back to its class. Grade with
`make grade EX=1.1` or `minit5 grade 1`.
"""


def stsb_to_string(x):
    """Exercise 1.1: an STS-B similarity score as the text the model learns to write (§2.4).

    The paper describes STS-B scores as running from 1 to 5 and rounds them to multiples of
    0.2, which makes 21 classes; the GLUE data set's labels actually run from 0 to 5, so the
    same rounding gives 26 classes there. Round `x` to the nearest multiple of 0.2 and print it
    with one decimal. Halves go to the even neighbour, as Python's round() and the t5
    library's preprocessing do: 2.57 -> "2.6", 0.5 -> "0.4", 1.5 -> "1.6". The text "-0.0" is
    never a score.

    Graded: the exact string, for scores in [0, 5] given as Python or NumPy floats.

    Args:
        x: a finite score, a Python float or a NumPy float.

    Returns:
        A string such as "2.6".
    """
    # TODO: Exercise 1.1
    raise NotImplementedError("Exercise 1.1")


def string_to_stsb(s):
    """Exercise 1.2: read a model's STS-B output back as a number (§2.4).

    A generated string is only text: it may be "2.6", " 3.0 ", or "entailment". Surrounding
    whitespace does not matter; otherwise the string is read the way Python's float() reads
    it. A string float() rejects, and nan or an infinite value, is not a score: return None
    (the paper counts such outputs as wrong).

    Graded: the value (or None) for model-like outputs, numbers in every spelling float()
    accepts, and junk.

    Args:
        s: a string.

    Returns:
        A float, or None.
    """
    # TODO: Exercise 1.2
    raise NotImplementedError("Exercise 1.2")


def string_to_label(task, s):
    """Exercise 1.3: the class index of a label word the model wrote (§2.4).

    `minit5.data.tasks.LABEL_NAMES[task]` lists a task's label words in class order
    (`LABEL_NAMES["mnli"] == ("entailment", "neutral", "contradiction")`). Return the index of
    the word `s` names, ignoring surrounding whitespace. Anything else, including a word of
    another task or a different spelling ("Entailment", "not acceptable"), is not a label:
    return None (the paper counts it as wrong). A task with no label names raises a KeyError
    that names the task.

    Graded: the index or None for every task in LABEL_NAMES and for outputs that are label
    words, padded label words, near misses and junk.

    Args:
        task: a task name, e.g. "mnli".
        s: the model's output.

    Returns:
        An int, or None.
    """
    # TODO: Exercise 1.3
    raise NotImplementedError("Exercise 1.3")
