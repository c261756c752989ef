"""Chapter 8 exercises: scoring and comparing the Table 1 miniature more carefully.

The chapter ranks options by their summed log-likelihood, summarises each row by the mean and
spread of its seeds, and calls a gap clear when it beats twice the larger spread. These
exercises take the next step on each: ranking options of different lengths fairly, comparing
two rows seed by seed, putting an interval on an accuracy measured on a finite test set, and a
metric that a constant answer cannot flatter. Grade with `make grade EX=8.1` or
`minit5 grade 8`. Inputs are NumPy arrays or lists; leave them as they were passed.
"""


def length_normalized_choice(log_likelihoods, lengths, counts):
    """Exercise 8.1: rank classification by the mean log-probability per token.

    A sum of token log-probabilities gets more negative with every token, so ranking options
    by their sum favours the shorter option whatever it says (a one-piece word over a
    three-piece word in the cloze choice task). Rank them by their mean log-probability per
    token instead: the option's summed log-likelihood divided by its token count.

    Graded: the chosen positions exactly, on random scores with many ties, and that the
    inputs are unchanged.

    Args:
        log_likelihoods: float (N,), each option's summed log p(option </s> | input); the
            options of example 0 first, then those of example 1, and so on.
        lengths: int (N,), each option's number of target tokens, </s> included (>= 1).
        counts: int (E,), how many options each example has (each >= 1, summing to N).

    Returns:
        int (E,): for each example, the position of its best option among its own options
        (0 for its first option); on a tie the first of the tied options.
    """
    # TODO: Exercise 8.1
    raise NotImplementedError("Exercise 8.1")


def paired_difference(a, b):
    """Exercise 8.2: compare two rows seed by seed.

    In the miniature a seed fixes the training sample and the order of the examples for both
    arms, so a lucky seed lifts both rows. The per-seed differences a[s] - b[s] cancel that
    shared luck; summarise them by their mean and their sample standard deviation (divide by
    n - 1; 0 when there is a single seed).

    Graded: both numbers to rounding, for random rows of 1 to 6 seeds, and that the inputs
    are unchanged.

    Args:
        a, b: one score per seed (lists or float arrays of the same length >= 1), the same
            seeds in the same order.

    Returns:
        {"mean": float, "std": float}, the summary of a - b.
    """
    # TODO: Exercise 8.2
    raise NotImplementedError("Exercise 8.2")


def bootstrap_interval(correct, rng, n_resamples=1000, level=0.95):
    """Exercise 8.3: an interval for an accuracy measured on a finite test set.

    The seeds' spread covers the randomness of training only; the 240 test examples are a
    sample too. Return the percentile bootstrap interval of the accuracy: the interval between
    the (1 - level) / 2 and (1 + level) / 2 quantiles of the accuracy over n_resamples
    bootstrap resamples of the test set. How to draw the resamples from rng is yours to choose.

    Graded: by what a bootstrap must give, not by your generator calls: 0 <= low <= high <=
    100, the same answer for the same generator state, (a, a) for a test set every resample
    scores alike, and with many resamples both ends close to the library's (within the
    resampling noise and one example's step of 100 / N); and that `correct` is unchanged.

    Args:
        correct: bool (N,), whether each test example was answered right (N >= 1).
        rng: a numpy.random.Generator; all the randomness comes from it.
        n_resamples: how many resamples (>= 1).
        level: the interval's coverage, a fraction in (0, 1).

    Returns:
        (low, high), floats in 0-100 (percent).
    """
    # TODO: Exercise 8.3
    raise NotImplementedError("Exercise 8.3")


def matthews_correlation(predictions, targets):
    """Exercise 8.4: the Matthews correlation of a task with any number of classes.

    On a balanced acceptability task a model that always answers "acceptable" has an accuracy
    of 50%, the same as a coin. GLUE scores CoLA with the Matthews correlation instead, and
    the same statistic extends to K classes (Gorodkin's R_K, what scikit-learn computes): code
    each answer as a one-hot row of K entries, X (N, K) for the predictions and Y (N, K) for
    the targets, and take

        cov(X, Y) / sqrt(cov(X, X) * cov(Y, Y)),   cov(A, B) = sum over k of the covariance
                                                    of column k of A with column k of B,

    (for K = 2 the Pearson correlation of the two 0/1 vectors). Compute it from the labels;
    when a factor under the root is 0 (all the predictions, or all the targets, one class)
    the correlation is undefined: report 0 there, as GLUE does, never nan.

    Graded: the value to rounding, for 2 to 5 classes, classes that only the predictions or
    only the targets use, constant predictions and constant targets, and label ids that are
    not 0..K-1; and that the inputs are unchanged.

    Args:
        predictions: int (N,), the predicted class of each example (N >= 1).
        targets: int (N,), the true class of each example; the classes are the ids that occur
            in either array.

    Returns:
        A float in -100..100 (the correlation times 100, as the paper's tables report it).
    """
    # TODO: Exercise 8.4
    raise NotImplementedError("Exercise 8.4")
