"""Chapter 16 exercises: reading the miniatures against the paper, and two ideas that came after.

The chapter reads every recorded miniature row against its table's reference row and calls it
agreeing with the paper when both move the same way; the first exercise reads every pair of
rows instead. The other two take a step beyond ByT5 (reading bytes back as text) and mT5 (the
language sampling that keeps repeats bounded). Grade with `make grade EX=16.1` or
`minit5 grade 16`. Leave the inputs as they were passed.
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


def byt5_decode(ids):
    """Exercise 16.2: the text of ByT5 ids, as a model's output gives them.

    ByT5 has no vocabulary to learn: a text is its UTF-8 bytes, byte b is the id b + 3 (after
    T5's pad 0, EOS 1 and unk 2), and the released checkpoints add 125 sentinels above the 256
    byte ids. The chapter encodes text; reading a model's output is the other way, and a model
    can emit anything: special ids, sentinels, and byte sequences that are not valid UTF-8 (a
    character cut after its first byte, a stray continuation byte). Return the text: drop the
    special ids (0, 1, 2) and the sentinels (every id above the byte ids) wherever they occur,
    turn the rest into bytes, and decode them as UTF-8 with every invalid sequence replaced by
    U+FFFD, exactly as Python's UTF-8 decoder does with errors="replace" (Hugging Face's
    ByT5Tokenizer does the same).

    Raise ValueError if ids is not one-dimensional or holds something other than integers.

    Graded: against the library on the ids of random Unicode text (non-ASCII, `_`, emoji,
    control characters), with special ids and sentinels mixed in, characters cut short, stray
    and random bytes, the empty sequence, ids given as a list or an int32 array; the errors;
    and that `ids` is unchanged.

    Args:
        ids: 1-D integer array (or list) of ids in [0, 384).

    Returns:
        str.
    """
    # TODO: Exercise 16.2
    raise NotImplementedError("Exercise 16.2")


def alpha_for_max_epochs(sizes, total_examples, max_epochs):
    """Exercise 16.3: the strongest boost for small languages that keeps their repeats bounded.

    mT5 draws each pre-training example from language L with probability proportional to
    |L| ** alpha (|L| the number of examples of L), with alpha = 0.3: the smaller alpha, the
    more often the small languages are drawn, and the more often a run of total_examples draws
    passes over their data (on average: the examples drawn from L divided by |L|). Return the
    smallest alpha in [0, 1] at which no language is passed over more than max_epochs times
    (alpha = 0: every language equally often; alpha = 1: in proportion to the sizes). Work out
    first which language repeats most and how its passes change with alpha. Return 0.0 when
    alpha = 0 already keeps within max_epochs, and raise ValueError when not even alpha = 1
    does.

    Also raise ValueError if sizes is empty, a size is not a whole number >= 1, total_examples
    is negative, or max_epochs is not > 0.

    Graded: the most-repeated language's passes at your alpha (computed by the library) equal
    to max_epochs to 1e-9 (or alpha 0.0 where that suffices), for 1 to 8 languages of 1 to
    10^9 examples and budgets up to 10^13 draws; equal sizes; the errors; and that `sizes` is
    unchanged.

    Args:
        sizes: dict {language: number of examples}, each >= 1.
        total_examples: the number of examples the run draws, >= 0.
        max_epochs: the most passes over any language's data allowed, > 0.

    Returns:
        alpha, a float in [0, 1].
    """
    # TODO: Exercise 16.3
    raise NotImplementedError("Exercise 16.3")
