"""Chapter 10 exercises: what the chapter measures, as formulas and functions of your own.

The chapter applies every objective of §3.3 to one sentence and measures, over many pieces of
text, how long their inputs and targets come out. These exercises take the next steps: the
exact expected cost of the i.i.d. baseline, the lengths of the spans a mask corrupts, and the
BERT rule the paper simplified away. Grade with `make grade EX=10.1` or `minit5 grade 10`.
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


def noise_span_lengths(noise_mask):
    """Exercise 10.2: the lengths of the corrupted spans of a noise mask.

    A span is a maximal run of consecutive True positions; each becomes one sentinel in the
    inputs of a sentinel objective. Example: [F T T F T F F T T T] -> [2 1 3].

    Graded: against the library on random masks (i.i.d. ones and span-corruption ones), the
    empty mask included, and that `noise_mask` is unchanged.

    Args:
        noise_mask: bool array (L,).

    Returns:
        int64 array (number of spans,), the spans' lengths from left to right.
    """
    # TODO: Exercise 10.2
    raise NotImplementedError("Exercise 10.2")


def bert_original(tokens, vocab_size, rng, noise_density=0.15, eos_id=1):
    """Exercise 10.3: BERT's own corruption rule, which the paper's BERT-style objective drops.

    As `bert_style`, the target is the original sequence and 15% of the tokens are corrupted,
    but of the corrupted tokens 80% become the mask token (vocab_size - 1), 10% a random id
    from [3, vocab_size) (never pad 0, EOS 1 or unk 2), and 10% stay as they were.

    Draw from rng in exactly this order, so that the same generator state gives the same
    answer as the library: noise = rng.random(n) < noise_density; u = rng.random(n);
    random_ids = rng.integers(3, vocab_size, size=n). A corrupted token takes its random id
    if u < 0.1, stays unchanged if 0.1 <= u < 0.2, and becomes the mask token otherwise.

    Graded: both arrays exactly, for random tokens, seeds and rates, and that `tokens` is
    unchanged.

    Args:
        tokens: int array (n,).
        vocab_size: ids in the vocabulary, sentinels included.
        rng: a numpy.random.Generator.
        noise_density: the share of tokens corrupted.
        eos_id: appended to both inputs and targets.

    Returns:
        (inputs, targets): int64 arrays (n + 1,) each.
    """
    # TODO: Exercise 10.3
    raise NotImplementedError("Exercise 10.3")
