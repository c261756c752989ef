"""Chapter 12 exercises: the next step after what the chapter builds for §3.5.

The chapter computes mixing rates from a temperature, samples the miniature's mixtures,
builds an adapter and counts what it trains, and works out which blocks train in each episode
of gradual unfreezing. These exercises take the step after each: the temperature that gives a
task the share you want, the optimizer state that fine-tuning with adapters keeps, and the
parameters that train at a given step of gradual unfreezing. Grade with `make grade EX=12.1`
or `minit5 grade 12`.
Inputs are plain Python values (dicts, numbers, a `T5Config`); leave them as they were passed.
"""


def temperature_for_rate(sizes, K, rate):
    """Exercise 12.1: the temperature that gives the largest task a chosen share (§3.5.2).

    Temperature-scaled mixing caps every task's number of examples at K (K None: no cap),
    takes the examples-proportional rates of the capped sizes, raises each to the power 1 / T
    and renormalises. Step 1 goes from T to the rates; choosing a mixture goes the other way:
    return the temperature T at which the largest task (the one with the most examples after
    the cap) gets exactly `rate` of the mixture. Find out first which rates some T can give
    (think of T -> 0 and T -> infinity, tasks tied for the most examples, and tasks with no
    examples), and raise ValueError for any other rate.

    Also raise ValueError, as the rates themselves do, for a K <= 0, a size that is not a
    whole number >= 0, or sizes that are all 0.

    Graded: the largest task's rate at your T (computed by the library) equal to `rate` to
    1e-9, for 2 to 8 tasks of up to 10^9 examples, with and without K, rates from just above
    the lowest reachable to just below the highest; the miniature mixture of the chapter;
    ties, empty tasks, and every unreachable rate raising ValueError; and that `sizes` is
    unchanged.

    Args:
        sizes: {task name: number of examples}, whole numbers >= 0.
        K: the artificial data set size limit, an int >= 1, or None.
        rate: the share of the mixture the largest task should get, a float.

    Returns:
        T, a float > 0.
    """
    # TODO: Exercise 12.1
    raise NotImplementedError("Exercise 12.1")


def adapter_state_bytes(config, adapter_dim):
    """Exercise 12.2: the optimizer state that fine-tuning with adapters keeps (§3.5.1).

    Put an adapter of inner size `adapter_dim` after every feed-forward sub-layer of a
    T5ForConditionalGeneration of `config` (its wi is (adapter_dim, d_model), its wo
    (d_model, adapter_dim)) and train only the adapters and the layer norms, as
    `minit5.t5.adapters.add_adapters` does. Return the bytes of Adafactor state those trainable
    parameters need, in float32, under T5's rule: a matrix is factored over its two largest
    dimensions (a row state plus a column state) only if the smaller of the two is at least
    128; any other matrix, and every vector, keeps one number per weight. No momentum, and the
    step counters are not counted. Frozen parameters keep no state at all.

    Graded: against the library for random small configs (widths, depths, ReLU or gated GELU,
    tied or untied) and inner sizes from 1 to 300, and Table 10's sizes, exactly; an
    adapter_dim below 1 must raise ValueError.

    Args:
        config: a minit5 T5Config without adapters (config.adapter_dim is None).
        adapter_dim: the adapters' inner size d, an int >= 1.

    Returns:
        int, a number of bytes.
    """
    # TODO: Exercise 12.2
    raise NotImplementedError("Exercise 12.2")


def unfrozen_parameters(config, step, total_steps):
    """Exercise 12.3: the parameters that train at one step of gradual unfreezing (§3.5.1).

    A T5ForConditionalGeneration of `config` is fine-tuned for `total_steps` steps (counted
    from 1). With N the depth of the deeper stack, the run is cut into N episodes: step k
    belongs to episode n = ceil(k N / total_steps). In episode n a stack of L blocks trains
    its top ceil(n L / N) blocks (all their weights, the block's relative attention bias
    included where it has one), together with its final layer norm; the shared embedding
    (`shared.weight`, and `lm_head.weight` when the model has an untied one) trains in every
    episode; everything else is frozen. This is what `minit5.train.unfreezing.apply_unfreezing`
    sets.

    Graded: against the library for random small configs (the two stacks of equal or different
    depths, tied or untied, gated or not, with or without §3.5.1's adapters, which belong to
    their block) and every kind of step (first and last of an episode, first and
    last of the run), as a set of names; a step outside 1..total_steps, or total_steps below
    the depth, must raise ValueError.

    Args:
        config: a minit5 T5Config.
        step: the step, 1 <= step <= total_steps.
        total_steps: the length of the fine-tuning run, at least the depth N.

    Returns:
        the names of the trainable parameters, as `named_parameters()` names them (a list or a
        set; the order is not graded).
    """
    # TODO: Exercise 12.3
    raise NotImplementedError("Exercise 12.3")
