"""Chapter 10 exercises: what the chapter measures, as formulas and functions of your own.

The chapter applies every objective of §3.3 to one sentence and measures, over many pieces of
text, how long their inputs and targets come out. These exercises take the next steps: the
exact expected cost of the i.i.d. baseline, the way back from a sentinel pair to its text,
and the BERT rule the paper simplified away. Grade with `make grade EX=10.1` or `minit5 grade 10`.
Inputs are NumPy arrays and plain numbers; leave them as they were passed. Token arrays are
1-D int64; `vocab_size` counts the sentinels (`<extra_id_0>` = vocab_size - 1).
"""


def expected_iid_denoising_lengths(length, noise_density=0.15):
    """Exercise 10.1: the expected input and target lengths of the i.i.d. baseline (§3.1.4).

    `iid_denoising` corrupts each of `length` tokens independently with probability
    noise_density; the inputs keep the other tokens with one sentinel per run of corrupted
    tokens, the targets keep the corrupted tokens with one sentinel per run of kept tokens, and
    both end in EOS. Return the exact expectations of the two lengths (no sampling).

    Graded: against the library for lengths 1 to 2,000 and rates 0 to 1 (to 1e-9), and that a
    length below 1 or a rate outside [0, 1] raises ValueError.

    Args:
        length: the number of tokens n (an int >= 1).
        noise_density: the corruption rate r, in [0, 1].

    Returns:
        (expected inputs length, expected targets length), two floats, EOS included.
    """
    # TODO: Exercise 10.1
    raise NotImplementedError("Exercise 10.1")


def restore_tokens(inputs, targets, vocab_size, eos_id=1):
    """Exercise 10.2: put a sentinel objective's pair back together into its text.

    `iid_denoising` and `span_corruption` turn tokens into inputs (the kept tokens, each
    corrupted run replaced by one sentinel) and targets (the corrupted tokens, each kept run
    replaced by one sentinel), both ending in EOS. Reading a model's predictions, or checking
    an objective, needs the way back: return the original tokens. The sentinels are the ids
    vocab_size - 100 and up (<extra_id_0> = vocab_size - 1, <extra_id_1> = vocab_size - 2,
    ...); the other ids are ordinary tokens.

    Raise ValueError if the inputs' sentinels and the targets' corrupted runs do not pair up
    one to one, or if inputs or targets do not end in eos_id.

    Graded: against the library on pairs from both objectives at every corruption rate from 0
    to 1 (text that starts or ends with a corrupted run, nothing corrupted, everything
    corrupted, the empty text), with other EOS ids, that the result is int64, the errors, and
    that the inputs are unchanged.

    Args:
        inputs: int array, the objective's inputs (EOS last).
        targets: int array, the objective's targets (EOS last).
        vocab_size: ids in the vocabulary, the 100 sentinels included.
        eos_id: the id that ends both.

    Returns:
        int64 array (n,): the tokens the pair was made from, without EOS.
    """
    # TODO: Exercise 10.2
    raise NotImplementedError("Exercise 10.2")


def bert_original(tokens, vocab_size, rng, noise_density=0.15, eos_id=1):
    """Exercise 10.3: BERT's own corruption rule, which the paper's BERT-style objective drops.

    As `bert_style`, the target is the original sequence followed by EOS, and each token is
    corrupted independently with probability noise_density. Of the corrupted tokens, BERT
    turns 80% into the mask token (vocab_size - 1), 10% into a random id drawn uniformly from
    [3, vocab_size) (never pad 0, EOS 1 or unk 2), and leaves 10% as they were. The inputs are
    the corrupted sequence followed by EOS. How you draw from rng is yours to choose.

    Graded: by what the rule must give, not by your generator calls: the targets exactly,
    the inputs' shape, dtype (int64) and EOS; on long sequences the shares of mask tokens,
    random ids and untouched tokens within the sampling noise of the rule's probabilities
    (rates from 0 to 1, small and large vocabularies); random ids spread over all of
    [3, vocab_size); the same answer for the same generator state; and that `tokens` is
    unchanged.

    Args:
        tokens: int array (n,), ids in [3, vocab_size - 1).
        vocab_size: ids in the vocabulary, sentinels included.
        rng: a numpy.random.Generator; all the randomness comes from it.
        noise_density: the probability that a token is corrupted, in [0, 1].
        eos_id: appended to both inputs and targets.

    Returns:
        (inputs, targets): int64 arrays (n + 1,) each.
    """
    # TODO: Exercise 10.3
    raise NotImplementedError("Exercise 10.3")
