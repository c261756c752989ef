"""Unsupervised pre-training objectives (paper §3.1.4 and §3.3), as in the t5 library.

Each objective turns one unlabeled token sequence into an (inputs, targets) pair of 1-D
integer arrays, both ending in EOS. All randomness comes from the `numpy.random.Generator`
passed in: the same generator state gives the same pair.

The baseline (§3.1.4, Figure 2; the t5 library's `iid_denoising`) chooses 15% of the tokens
independently at random; each run of consecutive chosen tokens becomes one sentinel in the
inputs, and the targets are the dropped runs, each after its sentinel (`iid_denoising`):

    tokens  = Thank you for inviting me to your party last week .
    inputs  = Thank you <X> me to your party <Y> week . </s>
    targets = <X> for inviting <Y> last <Z> </s>

(`<X>` = `<extra_id_0>` = vocab_size - 1, `<Y>` = `<extra_id_1>` = vocab_size - 2, `<Z>` = ...
The targets replace each run of kept tokens by a sentinel, as the t5 library's
`nonnoise_span_to_unique_sentinel` does, so a sequence that ends in kept tokens ("week .")
ends its targets with one more sentinel, as in the paper's Figure 2. `span_corruption`'s masks
always end in noise, so its targets end with the last span.)
§3.3.4 then drops spans of mean length 3 instead of i.i.d. tokens ("span corruption",
`span_corruption`), which shortens the targets at no cost; that is the objective of the final
T5 models (§3.7), not of the §3.1 baseline.

§3.3.1 compares the baseline with prefix LM (`prefix_lm`), BERT-style masking (`bert_style`) and
deshuffling (`deshuffle`); §3.3.2 with MASS-style masking (`mass_style`), replacing corrupted
spans (`iid_replace_spans`, the baseline itself) and dropping corrupted tokens (`drop_tokens`).
`lm` is the t5 library's language-modeling objective (empty inputs); `full_lm` and
`select_random_chunk` (in `minit5.data.chunking`) are its document-level steps.

Naming: objectives that write sentinels or a mask token take `(tokens, vocab_size, rng, ...)`,
the others `(tokens, rng, ...)` (`lm`, which draws nothing, `(tokens, ...)`). `vocab_size`
counts the sentinels (pieces + 100; 32,100 for T5). Every caller (`minit5 train`, the
experiments) goes through the registry at the end of this file instead: `OBJECTIVES` maps each
name to its record (`minit5.data.objective_registry.Objective`), and
`make_objective(name, vocab_size, **params)` returns `objective(tokens, rng) -> (inputs,
targets)` whatever the function's own signature. A new objective is a function here and one
line in `OBJECTIVES`.

Where minit5 refuses what t5 accepts: the t5 library maps a noise span past its last sentinel to
an id below the sentinels without a word; here more spans than `extra_ids` is a ValueError
(pass a larger `extra_ids`, with a tokenizer that has them, or use shorter sequences).
"""
import numpy as np

from minit5.data.objective_registry import Objective
from minit5.data.tokenizer import DEFAULT_EXTRA_IDS, EOS_ID

# ---- argument checks ---------------------------------------------------------------------------

def _check_rng(rng, name):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} needs rng=numpy.random.Generator (e.g. np.random.default_rng(0)); "
                        f"got {type(rng).__name__}. minit5 never uses a global random state.")


def _as_tokens(tokens, name):
    tokens = np.asarray(tokens)
    if tokens.ndim != 1 or not (np.issubdtype(tokens.dtype, np.integer) or tokens.size == 0):
        raise ValueError(f"{name} takes tokens as a 1-D integer array, got shape {tokens.shape} "
                         f"dtype {tokens.dtype}; pass one example at a time")
    return tokens.astype(np.int64)


def _with_eos(tokens, eos_id):
    if eos_id is None:
        return tokens
    return np.concatenate([tokens, np.array([eos_id], dtype=tokens.dtype)])


# ---- span corruption (§3.3.4) ----------------------------------------------------------

def _random_segmentation(num_items, num_segments, rng):
    """Split `num_items` into `num_segments` positive lengths, uniformly over all such splits.

    Mark `num_segments - 1` of the `num_items - 1` gaps between items as segment starts, in a
    random order; the lengths between the marks are the segment lengths.
    """
    starts = np.arange(num_items - 1) < num_segments - 1         # (num_items - 1,)
    starts = rng.permutation(starts)
    first_in_segment = np.concatenate([[0], starts.astype(np.int64)])
    segment_id = np.cumsum(first_in_segment)                     # (num_items,) in 0..S-1
    return np.bincount(segment_id, minlength=num_segments)       # (num_segments,)


def random_spans_noise_mask(length, noise_density=0.15, mean_noise_span_length=3.0, rng=None):
    """Boolean mask of `length` with about `noise_density` of it True, in spans (§3.3.4).

    The counts are fixed; only the span boundaries are random:
      L = max(length, 2)
      num_noise = clip(round(L * noise_density), 1, L - 1)     (round half to even)
      num_spans = max(round(num_noise / mean_noise_span_length), 1)
    The noise tokens and the non-noise tokens are each split into `num_spans` positive
    lengths, and the spans alternate starting with non-noise, so the mask starts False and
    (before truncation to `length`) ends True.

    Example: length 10, density 0.3, mean 1.5 -> 3 noise tokens in 2 spans, e.g.
    [F F F F F T F F T T] (rng=np.random.default_rng(0)).
    """
    _check_rng(rng, "random_spans_noise_mask")
    if not 0.0 < noise_density < 1.0:
        raise ValueError(f"noise_density must be in (0, 1), got {noise_density}")
    if mean_noise_span_length < 1:
        raise ValueError(f"mean_noise_span_length must be >= 1 (a span has at least one token), "
                         f"got {mean_noise_span_length}")
    orig_length = int(length)
    if orig_length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    length = max(orig_length, 2)
    num_noise = int(np.clip(round(length * noise_density), 1, length - 1))
    num_spans = max(int(round(num_noise / mean_noise_span_length)), 1)
    num_nonnoise = length - num_noise
    if num_nonnoise < num_spans:
        raise ValueError(
            f"cannot make {num_spans} noise spans with only {num_nonnoise} non-noise tokens "
            f"between them (length={orig_length}, noise_density={noise_density}, "
            f"mean_noise_span_length={mean_noise_span_length}); lower noise_density or raise "
            f"mean_noise_span_length")
    noise_lengths = _random_segmentation(num_noise, num_spans, rng)          # (S,)
    nonnoise_lengths = _random_segmentation(num_nonnoise, num_spans, rng)    # (S,)
    interleaved = np.stack([nonnoise_lengths, noise_lengths], axis=1).reshape(-1)  # (2S,)
    span_index = np.repeat(np.arange(2 * num_spans), interleaved)            # (L,)
    is_noise = span_index % 2 == 1
    return is_noise[:orig_length]


def random_spans_helper(inputs_length, noise_density=0.15, mean_noise_span_length=3.0):
    """How many raw tokens to cut so span corruption fills exactly `inputs_length` (§3.3.4).

    Corrupting `n` tokens leaves `n - num_noise` tokens plus one sentinel per span plus EOS in
    the inputs, and `num_noise` tokens plus one sentinel per span plus EOS in the targets. This
    returns the largest `tokens_length` whose inputs fit, and the targets length it gives:
    512 -> (568, 114); 128 -> (141, 29); 256 -> (284, 58); 1024 -> (1137, 229).
    """
    if int(inputs_length) < 2:
        raise ValueError(f"inputs_length must be >= 2 (a token and EOS), got {inputs_length}")

    def lengths(tokens_length):
        num_noise = int(round(tokens_length * noise_density))
        num_nonnoise = tokens_length - num_noise
        num_spans = int(round(num_noise / mean_noise_span_length))
        return num_nonnoise + num_spans + 1, num_noise + num_spans + 1   # (inputs, targets)

    tokens_length = int(inputs_length) - 1
    while lengths(tokens_length + 1)[0] <= inputs_length:
        tokens_length += 1
    _, targets_length = lengths(tokens_length)
    # The t5 library's special case: at density 0.5 keep targets no longer than inputs.
    if noise_density == 0.5 and targets_length > inputs_length:
        tokens_length -= 1
        targets_length -= 1
    return tokens_length, targets_length


def noise_span_to_unique_sentinel(tokens, noise_mask, vocab_size, extra_ids=DEFAULT_EXTRA_IDS):
    """Replace each noise span by one sentinel: the first by `<extra_id_0>` (vocab_size - 1),
    the next by `<extra_id_1>`, and so on; the rest of each span is dropped.

    Example (vocab_size 100): tokens [5 6 7 8 9], mask [F T T F T] -> [5 99 8 98].
    """
    tokens = _as_tokens(tokens, "noise_span_to_unique_sentinel")
    noise_mask = np.asarray(noise_mask, dtype=bool)
    if noise_mask.shape != tokens.shape:
        raise ValueError(f"noise_mask has shape {noise_mask.shape} but tokens {tokens.shape}; "
                         f"they must match")
    prev_is_noise = np.concatenate([[False], noise_mask[:-1]])
    first_noise = noise_mask & ~prev_is_noise         # span starts
    later_noise = noise_mask & prev_is_noise          # dropped
    num_spans = int(first_noise.sum())
    if num_spans > extra_ids:
        raise ValueError(f"{num_spans} noise spans need {num_spans} sentinels but there are "
                         f"{extra_ids}; use shorter sequences or fewer spans")
    sentinel = vocab_size - np.cumsum(first_noise)    # vocab_size - 1 for span 1, then down
    out = np.where(first_noise, sentinel, tokens)
    return out[~later_noise]


def nonnoise_span_to_unique_sentinel(tokens, noise_mask, vocab_size, extra_ids=DEFAULT_EXTRA_IDS):
    """The targets' side: replace each non-noise span by a sentinel (keeping the noise).

    Example (vocab_size 100): tokens [5 6 7 8 9], mask [F T T F T] -> [99 6 7 98 9].
    """
    return noise_span_to_unique_sentinel(tokens, ~np.asarray(noise_mask, dtype=bool),
                                         vocab_size, extra_ids)


def span_corruption(tokens, vocab_size, rng, noise_density=0.15, mean_noise_span_length=3.0,
                    eos_id=EOS_ID, extra_ids=DEFAULT_EXTRA_IDS):
    """The final T5 models' pre-training objective (§3.3.4, §3.7): 15% of the tokens, in spans
    of mean length 3, each span replaced by its own sentinel (the t5 library's
    `span_corruption`). The §3.1.4 baseline is `iid_denoising`.

    Returns (inputs, targets), 1-D int64, each ending in `eos_id` (None: no EOS). With
    `len(tokens) = random_spans_helper(n)[0]` the inputs have exactly n ids. `extra_ids` is
    how many sentinels the vocabulary has; more spans than that is a ValueError.

    Example (vocab_size 100, mask [F T T F T]): [5 6 7 8 9] -> inputs [5 99 8 98 </s>],
    targets [99 6 7 98 9 </s>].
    """
    tokens = _as_tokens(tokens, "span_corruption")
    _check_rng(rng, "span_corruption")
    mask = random_spans_noise_mask(len(tokens), noise_density, mean_noise_span_length, rng)
    inputs = noise_span_to_unique_sentinel(tokens, mask, vocab_size, extra_ids)
    targets = nonnoise_span_to_unique_sentinel(tokens, mask, vocab_size, extra_ids)
    return _with_eos(inputs, eos_id), _with_eos(targets, eos_id)


# ---- the other objectives of §3.3 --------------------------------------------------------------

def iid_noise_mask(length, noise_density, rng):
    """Each token is noise independently with probability `noise_density` (§3.1.4, §3.3.2)."""
    _check_rng(rng, "iid_noise_mask")
    return rng.random(int(length)) < noise_density


def random_prefix_noise_mask(length, rng, noise_density=0.5):
    """The t5 library's prefix mask: True on a prefix of `n` tokens, n uniform in
    [max(1, round((1 - 2 * noise_density) * (length - 1))), length - 1] (at the default 0.5:
    [1, length - 1]), so the first token is always True and the last always False.
    noise_density above 0.5 is refused, as in t5.
    """
    _check_rng(rng, "random_prefix_noise_mask")
    if not 0.0 < noise_density <= 0.5:
        raise ValueError(f"random_prefix_noise_mask: noise_density must be in (0, 0.5], got "
                         f"{noise_density}; the prefix is at least half the sequence at 0.5")
    length = int(length)
    if length < 2:
        raise ValueError(f"prefix_lm needs at least 2 tokens to split, got {length}")
    max_inputs = length - 1
    min_inputs = min(max_inputs, max(1, int(round((1 - 2 * noise_density) * max_inputs))))
    num_inputs = int(rng.integers(min_inputs, max_inputs + 1))
    return np.arange(length) < num_inputs


def prefix_lm(tokens, rng, eos_id=EOS_ID, noise_density=0.5):
    """Prefix language modeling (§3.3.1, the t5 library's `prefix_lm`): split at a random point
    (`random_prefix_noise_mask`); inputs are the prefix, targets the rest. Both parts are
    non-empty, so `tokens` needs length >= 2.

    Example: [5 6 7 8] -> inputs [5 6 </s>], targets [7 8 </s>] (split point 2).
    """
    tokens = _as_tokens(tokens, "prefix_lm")
    prefix = random_prefix_noise_mask(len(tokens), rng, noise_density)
    return _with_eos(tokens[prefix], eos_id), _with_eos(tokens[~prefix], eos_id)


def lm(tokens, eos_id=EOS_ID):
    """Language modeling (the t5 library's `lm`): empty inputs, the whole sequence as targets.

    Example: [5 6 7] -> inputs [] (just </s> with eos_id set), targets [5 6 7 </s>]. A
    decoder-only model reads the targets alone (`minit5.data.packing_lm`); §3.2.3 uses it as
    the "LM" objective of Table 2.
    """
    tokens = _as_tokens(tokens, "lm")
    return _with_eos(tokens[:0], eos_id), _with_eos(tokens, eos_id)


# Ids 0, 1, 2 are pad, EOS and unk: the t5 library's random replacement tokens never use them.
NUM_RESERVED_TOKENS = 3


def bert_style(tokens, vocab_size, rng, noise_density=0.15, random_token_prob=0.1,
               eos_id=EOS_ID, keep_token_prob=0.0):
    """BERT-style masked LM as a text-to-text task (§3.3.1, Devlin et al. 2018).

    Corrupt 15% of tokens (i.i.d.); of those, 90% become the mask token (the t5 library uses
    the first sentinel, vocab_size - 1) and 10% a random id from [3, vocab_size), never pad,
    EOS or unk (the t5 library's `noise_token_to_random_token_or_sentinel`). The target is the
    original sequence. BERT's own rule also leaves some corrupted tokens unchanged (80% mask,
    10% random, 10% unchanged: `keep_token_prob=0.1`); the paper leaves that case out, and so
    does the default.

    The draws, in this order: the noise mask (`iid_noise_mask`), one uniform `u` per token,
    one random id per token. A corrupted token gets the random id if u < random_token_prob,
    stays as it was if random_token_prob <= u < random_token_prob + keep_token_prob, and
    becomes the mask token otherwise.

    Example (vocab_size 100): [5 6 7 8] -> inputs [5 99 7 8 </s>], targets [5 6 7 8 </s>].
    """
    tokens = _as_tokens(tokens, "bert_style")
    _check_rng(rng, "bert_style")
    if vocab_size <= NUM_RESERVED_TOKENS:
        raise ValueError(f"bert_style: vocab_size must exceed the {NUM_RESERVED_TOKENS} reserved "
                         f"ids (pad, EOS, unk), got {vocab_size}")
    if not (0.0 <= random_token_prob and 0.0 <= keep_token_prob
            and random_token_prob + keep_token_prob <= 1.0):
        raise ValueError(f"bert_style: random_token_prob ({random_token_prob}) and "
                         f"keep_token_prob ({keep_token_prob}) are shares of the corrupted "
                         f"tokens: each >= 0, together <= 1 (the rest become the mask token)")
    noise = iid_noise_mask(len(tokens), noise_density, rng)
    u = rng.random(len(tokens))
    random_tokens = rng.integers(NUM_RESERVED_TOKENS, vocab_size, size=len(tokens))
    use_random = u < random_token_prob
    keep = ~use_random & (u < random_token_prob + keep_token_prob)
    replacement = np.where(use_random, random_tokens, vocab_size - 1)
    inputs = np.where(noise & ~keep, replacement, tokens)
    return _with_eos(inputs, eos_id), _with_eos(tokens, eos_id)


def mass_style(tokens, vocab_size, rng, noise_density=0.15, eos_id=EOS_ID):
    """MASS-style (§3.3.2, Song et al. 2019): like BERT-style without the random tokens:
    every corrupted token becomes the mask token (vocab_size - 1); target = original.

    Example (vocab_size 100): [5 6 7 8] -> inputs [5 99 99 8 </s>], targets [5 6 7 8 </s>].
    """
    return bert_style(tokens, vocab_size, rng, noise_density, random_token_prob=0.0,
                      eos_id=eos_id)


def iid_denoising(tokens, vocab_size, rng, noise_density=0.15, eos_id=EOS_ID,
                  extra_ids=DEFAULT_EXTRA_IDS):
    """The §3.1.4 baseline objective (the t5 library's `iid_denoising`; Table 7's "i.i.d."
    row): each token is corrupted independently with probability 0.15, each run of
    consecutive corrupted tokens becomes one unique sentinel, and the target is the dropped
    runs, each after its sentinel. §3.3.2 calls it "replace corrupted spans".

    Example (vocab_size 100): [5 6 7 8 9], noise at 6 7 and 9
      -> inputs [5 99 8 98 </s>], targets [99 6 7 98 9 </s>].
    The targets put a sentinel in place of each kept run, so when the first token is noise
    they start with it before any sentinel ([5 6 7], noise at 5 and 7 -> inputs
    [99 6 98 </s>], targets [5 99 7 </s>]), exactly as the t5 library's functions do.
    """
    tokens = _as_tokens(tokens, "iid_denoising")
    _check_rng(rng, "iid_denoising")
    noise = iid_noise_mask(len(tokens), noise_density, rng)
    inputs = noise_span_to_unique_sentinel(tokens, noise, vocab_size, extra_ids)
    targets = nonnoise_span_to_unique_sentinel(tokens, noise, vocab_size, extra_ids)
    return _with_eos(inputs, eos_id), _with_eos(targets, eos_id)


iid_replace_spans = iid_denoising   # §3.3.2's name for the same objective


def noise_span_lengths(noise_mask):
    """The lengths of the runs of corrupted (True) positions in `noise_mask`, in order: the
    spans that a sentinel objective replaces one sentinel each (§3.3.4).

    Example: [F T T F T F F T T T] -> [2 1 3]. An i.i.d. mask at rate r has spans of mean
    length 1 / (1 - r) (1.18 at 15%); `random_spans_noise_mask` sets the mean itself.
    """
    noise_mask = np.asarray(noise_mask)
    if noise_mask.ndim != 1 or noise_mask.dtype != bool:
        raise ValueError(f"noise_span_lengths takes one 1-D boolean mask, got shape "
                         f"{noise_mask.shape} dtype {noise_mask.dtype}")
    edges = np.diff(np.concatenate([[0], noise_mask.astype(np.int8), [0]]))   # (L + 1,)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return (ends - starts).astype(np.int64)


def expected_iid_denoising_lengths(length, noise_density=0.15):
    """The expected lengths (inputs, targets), EOS included, that `iid_denoising` makes of
    `length` tokens at corruption rate r (§3.3.2, §3.3.4: what an objective costs per step).

    A run of corrupted tokens starts at position 0 with probability r and at each later
    position with probability r (1 - r); a run of kept tokens likewise with (1 - r) and
    r (1 - r). The inputs hold the kept tokens and one sentinel per corrupted run; the
    targets the corrupted tokens and one sentinel per kept run:
      E[inputs]  = n (1 - r) + r       + (n - 1) r (1 - r) + 1
      E[targets] = n r       + (1 - r) + (n - 1) r (1 - r) + 1
    Example: n = 63, r = 0.15 -> (62.61, 19.21); span corruption at mean span 3 gives
    (58, 13) for the same 63 tokens.
    """
    n, r = int(length), float(noise_density)
    if n < 1:
        raise ValueError(f"length must be at least 1 token, got {length}")
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"noise_density is a probability, in [0, 1]; got {noise_density}")
    runs_between = (n - 1) * r * (1 - r)
    return n * (1 - r) + r + runs_between + 1, n * r + (1 - r) + runs_between + 1


def drop_tokens(tokens, rng, noise_density=0.15, eos_id=EOS_ID):
    """Drop corrupted tokens (§3.3.2): the corrupted tokens (i.i.d.) vanish from the inputs,
    with no sentinel, and the target is the dropped tokens in order.

    Example: [5 6 7 8 9], noise at 6 and 9 -> inputs [5 7 8 </s>], targets [6 9 </s>].
    """
    tokens = _as_tokens(tokens, "drop_tokens")
    _check_rng(rng, "drop_tokens")
    noise = iid_noise_mask(len(tokens), noise_density, rng)
    return _with_eos(tokens[~noise], eos_id), _with_eos(tokens[noise], eos_id)


def deshuffle(tokens, rng, eos_id=EOS_ID):
    """Deshuffling (§3.3.1, Liu et al. 2019): inputs are the tokens in a random order, the
    target is the original order.

    Example: [5 6 7 8] -> inputs [7 5 8 6 </s>], targets [5 6 7 8 </s>].
    """
    tokens = _as_tokens(tokens, "deshuffle")
    _check_rng(rng, "deshuffle")
    return _with_eos(rng.permutation(tokens), eos_id), _with_eos(tokens, eos_id)


# ---- the registry: every objective by name, called one way --------------------------------------

def _span_corruption_lengths(inputs_length, params):
    return random_spans_helper(inputs_length, params["noise_density"],
                               params["mean_noise_span_length"])


OBJECTIVES = {o.name: o for o in (
    Objective.of(iid_denoising, "§3.1.4 baseline: 15% of the tokens corrupted i.i.d., each run "
                 "replaced by one sentinel; targets the runs"),
    Objective.of(span_corruption, "§3.3.4: 15% of the tokens corrupted in spans of mean length 3, "
                 "each replaced by one sentinel; the final T5 models' objective",
                 _span_corruption_lengths),
    Objective.of(bert_style, "§3.3.1: 15% corrupted, 90% of those to the mask token and 10% to a "
                 "random token; targets the original text"),
    Objective.of(mass_style, "§3.3.2: 15% corrupted, all to the mask token; targets the "
                 "original text"),
    Objective.of(drop_tokens, "§3.3.2: 15% of the tokens dropped from the inputs, no sentinel; "
                 "targets the dropped tokens"),
    Objective.of(deshuffle, "§3.3.1: inputs the tokens shuffled; targets the original order"),
    Objective.of(prefix_lm, "§3.3.1: split at a random point; inputs the prefix, targets the "
                 "rest"),
    Objective.of(lm, "§3.2.3: language modeling, empty inputs and the whole text as targets"),
)}


def make_objective(name: str, vocab_size: int, **params):
    """The objective `name` of `OBJECTIVES` as `objective(tokens, rng) -> (inputs, targets)`,
    for a vocabulary of `vocab_size` ids (sentinels included; objectives without sentinels or
    a mask token ignore it), with `params` over the function's defaults.

    The pairs are exactly the function's: make_objective("span_corruption", V,
    mean_noise_span_length=2.0)(tokens, rng) is span_corruption(tokens, V, rng,
    mean_noise_span_length=2.0). An unknown name or parameter is a ValueError that lists the
    choices.
    """
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name].bind(vocab_size, **params)


def restore_noise_spans(inputs, targets, vocab_size, eos_id=EOS_ID, extra_ids=DEFAULT_EXTRA_IDS):
    """The text a sentinel objective's pair came from (the inverse of `iid_denoising` and
    `span_corruption`): int64 (n,), EOS not included.

    The inputs hold the kept runs with one sentinel per corrupted run, the targets the
    corrupted runs with one sentinel per kept run, both ending in EOS. The targets' pieces
    between sentinels that are not empty are therefore the corrupted runs in order, and the
    inputs' k-th sentinel stands for the k-th of them.

    Example (vocab_size 100): inputs [5 99 8 98 </s>], targets [99 6 7 98 9 </s>]
      -> [5 6 7 8 9]; inputs [99 6 98 </s>], targets [5 99 7 </s>] -> [5 6 7].
    A pair whose inputs have more or fewer sentinels than the targets have corrupted runs,
    or that does not end in EOS, is a ValueError.
    """
    inputs = _as_tokens(inputs, "restore_noise_spans")
    targets = _as_tokens(targets, "restore_noise_spans")
    for name, ids in (("inputs", inputs), ("targets", targets)):
        if len(ids) == 0 or ids[-1] != eos_id:
            raise ValueError(f"restore_noise_spans: the {name} must end in EOS ({eos_id}), as an "
                             f"objective's pair does; got {ids.tolist()[-5:]} at the end")
    inputs, targets = inputs[:-1], targets[:-1]
    first_sentinel = vocab_size - extra_ids                 # ids from here up are sentinels
    in_sentinel = inputs >= first_sentinel                  # (len(inputs),)
    cuts = np.flatnonzero(targets >= first_sentinel)        # the targets' sentinels
    pieces = np.split(targets, cuts)                        # [run, s run, s run, ...]
    runs = [p[1:] if i else p for i, p in enumerate(pieces)]
    runs = [r for r in runs if len(r)]                      # the corrupted runs, in order
    if int(in_sentinel.sum()) != len(runs):
        raise ValueError(f"restore_noise_spans: the inputs have {int(in_sentinel.sum())} "
                         f"sentinels but the targets {len(runs)} corrupted runs; pass the two "
                         f"halves of one pair (and the vocab_size that made it)")
    out, k = [], 0
    for token, sentinel in zip(inputs.tolist(), in_sentinel.tolist()):
        if sentinel:
            out.extend(runs[k].tolist())
            k += 1
        else:
            out.append(token)
    return np.array(out, dtype=np.int64)
