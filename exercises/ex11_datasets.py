"""Chapter 11 exercises: measuring pre-training corpora (paper §3.4).

The chapter compares three corpora by size, by what the C4 rules removed and by how many of
the task sentences' words they contain, and works out how often Table 9's budget repeats a
truncated corpus. These exercises go one step further each: a smoothed unigram model's view of
"in-domain", the distribution of how often each piece is seen when pieces are drawn at random,
and the text two corpora share. Grade with `make grade EX=11.1` or `minit5 grade 11`. Leave the
inputs as they were passed.
"""


def unigram_cross_entropy(pages, sentences, alpha=1.0):
    """Exercise 11.1: bits per word of `sentences` under a unigram model of the corpus `pages`.

    Words are the lower-case runs of the letters a-z (lower-case the text first, then take
    every maximal run of a-z; "NumPy's 2-D array" has the words numpy, s, d, array). With c(w)
    the number of times word w occurs in `pages`, N the number of words in `pages` and V the
    number of distinct words in `pages` plus one (one extra slot that every word the corpus
    lacks falls into), the model is p(w) = (c(w) + alpha) / (N + alpha * V). Return the mean of
    -log2 p(w) over every word of `sentences`, repeats included.

    Graded: against the library on random corpora and texts, alpha between 0.1 and 3.

    Args:
        pages: list of strings, the corpus.
        sentences: list of strings, the text to score (the downstream task's sentences).
        alpha: positive float, the smoothing count.

    Returns:
        A float, bits per word: the lower, the closer the corpus's words are to the text's.

    Raises:
        ValueError when alpha is not positive, when `pages` has no words, or when `sentences`
        has none.
    """
    # TODO: Exercise 11.1
    raise NotImplementedError("Exercise 11.1")


def repeat_profile(num_pieces, draws, max_count):
    """Exercise 11.2: how often is each piece seen when pieces are drawn at random?

    Each batch row of a pre-training run is one piece drawn uniformly, with replacement, from
    `num_pieces` pieces; a run makes `draws` such draws. Return, for k = 0, 1, ..., max_count,
    the expected share of the pieces that are drawn exactly k times. It must stay finite and
    accurate for draws in the tens of thousands.

    Graded: to a relative 1e-9 against the library, for 1 to 5,000 pieces and up to 20,000
    draws, and the corner cases (one piece; no draws).

    Args:
        num_pieces: int >= 1.
        draws: int >= 0.
        max_count: int >= 0, the largest k reported.

    Returns:
        float64 array of shape (max_count + 1,); entry k is the expected share of pieces drawn
        exactly k times (entry 0: the share never seen).
    """
    # TODO: Exercise 11.2
    raise NotImplementedError("Exercise 11.2")


def shared_spans(pages, other_pages, span=3):
    """Exercise 11.3: the runs of `span` consecutive sentences that two corpora share.

    A page's sentences are those of its lines, in order: split each line (lines are separated
    by "\\n") with `minit5.data.cleaning.split_sentences` and put the lists one after another.
    A run is a tuple of `span` consecutive sentences of one page; runs never cross from one
    page into the next. Return the distinct runs of `other_pages` that are also runs of
    `pages`, sorted.

    Graded: against the library on corpora built to share some runs, span 1 to 4.

    Args:
        pages: list of strings, one corpus.
        other_pages: list of strings, the other corpus.
        span: int >= 1, sentences per run (3 is C4's deduplication unit).

    Returns:
        A sorted list of tuples of strings.
    """
    # TODO: Exercise 11.3
    raise NotImplementedError("Exercise 11.3")
