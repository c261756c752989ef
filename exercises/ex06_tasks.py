"""Chapter 6 exercises: the tasks' formats (paper §2.4, Appendix D) and a synthetic task.

The chapter formats GLUE inputs and reads labels back. These exercises write another task's
input format and the target of one of minit5's synthetic tasks. Grade with `make grade EX=6.1`
or `minit5 grade 6`.
"""


def squad_format(question, context):
    """Exercise 6.1: a SQuAD example as one input string (§2.4, Appendix D).

    T5 feeds reading comprehension as the question and the paragraph, each after its field
    name: "question:", the question, "context:", the paragraph, joined by spaces. As in the
    t5 library's SQuAD preprocessor, every ASCII punctuation mark (string.punctuation) in
    the question and the paragraph gets a space on each side first, and then every run of
    whitespace in the whole string becomes one space (no stripping: a leading or trailing
    space stays). squad_format("A question?", "Some context.") ->
    "question: A question ? context: Some context . ". The target is the answer text.

    Graded: the exact string.

    Args:
        question: the question text.
        context: the paragraph that holds the answer.

    Returns:
        The input string.
    """
    # TODO: Exercise 6.1
    raise NotImplementedError("Exercise 6.1")


def pig_latin(word):
    """Exercise 6.2: one word of the `pig_latin` synthetic task's targets.

    The task reads "translate English to Pig Latin: red book" and must write "edray ookbay".
    For one lower-case word:
      * a word starting with a vowel (a, e, i, o, u) gets "way": "apple" -> "appleway";
      * otherwise the letters before the first vowel move to the end, then "ay":
        "string" -> "ingstray";
      * after the first letter, "y" counts as a vowel: "rhythm" -> "ythmrhay";
      * a "u" right after a "q" is not a vowel; "qu" moves as one: "queen" -> "eenquay";
      * a word with no vowel at all just gets "ay"; the empty word stays empty.

    Graded: the exact string for random lower-case words and for the cases above.

    Args:
        word: a lower-case word (letters a-z only), possibly empty.

    Returns:
        The word in Pig Latin.
    """
    # TODO: Exercise 6.2
    raise NotImplementedError("Exercise 6.2")
