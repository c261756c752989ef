"""Chapter 16 exercises: reading the miniatures against the paper, and two ideas that came after.

The chapter reads every recorded miniature row against its table's reference row and calls it
agreeing with the paper when both move the same way; the first exercise reads every pair of
rows instead. The other two are the first steps of ByT5 (bytes as tokens) and mT5 (how often it
repeats each language). Grade with `make grade EX=16.1` or `minit5 grade 16`. Leave the inputs
as they were passed.
"""


def pairwise_agreement(summary, paper, paper_spread=0.235):
    """Exercise 16.1: over every pair of rows, how often the miniature moves as the paper does.

    summary: {row: {"mean": float, "std": float}}, a results file's "summary" (the seeds' mean
    and sample standard deviation); paper: {row: float}, the paper's numbers.

    Take the rows that are in both, in `paper`'s order, and every unordered pair (a, b) of them
    with a before b. In the miniature, a is "above" b when mean_a - mean_b exceeds twice the
    larger of their two stds, "below" when it is under minus that, else "level". In the paper
    the same, with the gap paper[a] - paper[b] and the bar 2 * paper_spread. The pair agrees
    when the two directions are the same ("level" and "level" agree).

    Graded: against the library on random tables (ties, zero spreads, rows missing from one
    side, fewer than two rows) and on every recorded results file.

    Args:
        summary: dict {row: {"mean", "std"}}.
        paper: dict {row: number}.
        paper_spread: the paper's run-to-run standard deviation (Table 1: 0.235).

    Returns:
        (agreeing pairs, pairs): two ints; (0, 0) when fewer than two rows are in both.
    """
    # TODO: Exercise 16.1
    raise NotImplementedError("Exercise 16.1")


def byt5_encode(text):
    """Exercise 16.2: ByT5's ids for a text.

    ByT5 has no vocabulary to learn: a text is its UTF-8 bytes. Ids 0, 1 and 2 stay T5's pad,
    EOS and unk, so byte b gets the id b + 3, and the sequence ends with EOS (1). A character
    outside ASCII is several bytes, so several ids.

    Graded: against the library on random Unicode text (the empty string included), and that
    a bytes object raises TypeError.

    Args:
        text: a str.

    Returns:
        int64 array (number of UTF-8 bytes + 1,).
    """
    # TODO: Exercise 16.2
    raise NotImplementedError("Exercise 16.2")


def language_epochs(sizes, total_examples, alpha=0.3):
    """Exercise 16.3: how often mT5's sampling repeats each language's data.

    mT5 draws each pre-training example from language L with probability p(L) proportional to
    |L| ** alpha, |L| the number of examples of L, with alpha = 0.3, so that small languages
    are drawn far more often than their share of the data. A run that draws total_examples
    examples then passes over language L's data p(L) * total_examples / |L| times (on average).
    Return {language: that number of passes}, in the order of sizes. (p is one of the paper's
    mixing strategies of §3.5.2, with other parameters: which one? And which of the paper's
    tables says what so many passes cost?)

    Raise ValueError if alpha is not > 0, if sizes is empty, if a size is not >= 1, or if
    total_examples is negative.

    Graded: against the library on random sizes, budgets and alphas (to 1e-9 relative), and
    the errors.

    Args:
        sizes: dict {language: number of examples}, each >= 1.
        total_examples: the number of examples the run draws, >= 0.
        alpha: the exponent, > 0 (1: every language is passed over equally often).

    Returns:
        dict {language: float}.
    """
    # TODO: Exercise 16.3
    raise NotImplementedError("Exercise 16.3")
