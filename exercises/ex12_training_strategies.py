"""Chapter 12 exercises: the next step after what the chapter builds for §3.5.

The chapter writes examples-proportional mixing by hand, samples the miniature's mixtures,
builds an adapter and counts what it trains, and works out which blocks train in each episode
of gradual unfreezing. These exercises take the step after each: temperature-scaled rates, the
optimizer state that fine-tuning with adapters keeps, and the parameters that train at a given
step of gradual unfreezing. Grade with `make grade EX=12.1` or `minit5 grade 12`.
Inputs are plain Python values (dicts, numbers, a `T5Config`); leave them as they were passed.
"""


def temperature_scaled_rates(sizes, K, temperature):
    """Exercise 12.1: temperature-scaled mixing rates (paper §3.5.2).

    Cap every task's number of examples at K (K None: no cap), take the examples-proportional
    rates of the capped sizes, raise each rate to the power 1 / temperature and renormalise so
    the rates sum to 1. temperature 1 gives examples-proportional mixing; a large temperature
    approaches equal mixing.

    Graded: against the library for random sizes (1 to 6 tasks, up to 10^7 examples each,
    some of them 0), limits and temperatures, to 1e-9; the order of the keys must be the order
    of `sizes`; a temperature <= 0, a K <= 0 or sizes that are all 0 must raise ValueError.

    Args:
        sizes: {task name: number of examples}, whole numbers >= 0.
        K: the artificial data set size limit, an int >= 1, or None.
        temperature: T > 0.

    Returns:
        {task name: rate}, floats summing to 1, in the order of `sizes`.
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
    depths, tied or untied) and every kind of step (first and last of an episode, first and
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
