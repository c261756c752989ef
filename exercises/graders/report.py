"""How a grader says what went wrong: what was expected, what came back, and a hint.

Every check raises `GraderFailure` (an AssertionError) whose first line is a one-line summary,
followed by the call, the expected and the returned value described in words (shape, dtype, the
values when there are few of them, where the largest difference is), and a hint. `minit5 grade`
prints the summary, a one-line expected/got and the hint; pytest prints the whole message.
(`__tracebackhide__` keeps these helpers out of pytest's tracebacks, which then end at the
grader's own line.)

Hints name mistakes, not solutions. A check can be given `mistakes`: pairs of (what the mistake
is, the answer that mistake gives). When the wrong answer equals one of them, the hint says
which mistake it looks like; otherwise the check's general hint is shown.
"""
from __future__ import annotations

import numpy as np

from minit5.backend import to_numpy

PREVIEW_ELEMENTS = 24   # arrays up to this size are printed in full


SHORT_ELEMENTS = 6      # values shown in `minit5 grade`'s one-line expected/got


class GraderFailure(AssertionError):
    def __init__(self, summary: str, hint: str, details: str = "", expected=None, got=None):
        self.summary, self.hint = summary, hint
        self.expected, self.got = expected, got      # one-line descriptions, or None
        parts = [summary] + ([details] if details else []) + [f"hint: {hint}"]
        super().__init__("\n".join(parts))


def fail(summary: str, hint: str, details: str = "", expected=None, got=None):
    __tracebackhide__ = True
    raise GraderFailure(summary, hint, details, expected, got)


def check(condition, summary: str, hint: str, details: str = "", expected=None, got=None):
    """Fail with `summary` and `hint` unless `condition`; `expected` and `got` are shown by
    `minit5 grade` in one short line each."""
    __tracebackhide__ = True
    if not condition:
        fail(summary, hint, details, None if expected is None else short(expected),
             None if got is None else short(got))


def check_dtype(name: str, got, expected, hint: str, what: str = "the result"):
    """`got` must be an array whose dtype is `expected`: a dtype (exactly that one) or one of
    "bool", "integer", "floating" (any dtype of that kind), as the docstring promises."""
    __tracebackhide__ = True
    kinds = {"bool": np.bool_, "integer": np.integer, "floating": np.floating}
    dtype = getattr(got, "dtype", None)
    if expected in kinds:
        ok = dtype is not None and np.issubdtype(dtype, kinds[expected])
        wanted = f"a {expected} dtype"
    else:
        ok = dtype is not None and dtype == np.dtype(expected)
        wanted = str(np.dtype(expected))
    if not ok:
        fail(f"{name}: {what} has dtype {dtype if dtype is not None else type(got).__name__}, "
             f"expected {wanted}", hint, expected=wanted,
             got=str(dtype) if dtype is not None else type(got).__name__)


# ---- describing values --------------------------------------------------------------------

def check_raises(error, call, description: str, hint: str):
    """Grade that `call()` raises `error` (a bad argument refused); `description` names the
    call in the failure, e.g. "f(config, 0)"."""
    try:
        got = call()
    except error:
        return
    fail(f"{description} returned {got!r} instead of raising {error.__name__}", hint)


def _is_array(value) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def describe(value) -> str:
    """A value in words: arrays by shape, dtype and (when small) their values."""
    if _is_array(value):
        array = to_numpy(value)
        kind = "array" if type(value) is np.ndarray else f"{type(value).__name__}"
        head = f"{kind} of shape {tuple(array.shape)}, dtype {array.dtype}"
        if array.size <= PREVIEW_ELEMENTS:
            text = np.array2string(np.asarray(array), precision=6, separator=", ",
                                   max_line_width=10_000)
            return f"{head}: {text}"
        return head
    if isinstance(value, (tuple, list)) and any(_is_array(v) for v in value):
        inner = "; ".join(describe(v) for v in value)
        return f"{type(value).__name__} of {len(value)}: ({inner})"
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


def short(value) -> str:
    """A value in one short line: arrays by shape, dtype and their first few values."""
    if _is_array(value):
        array = np.asarray(to_numpy(value))
        flat = array.reshape(-1)[:SHORT_ELEMENTS]
        values = np.array2string(flat, precision=4, separator=", ", max_line_width=10_000)
        more = ", ...]" if array.size > SHORT_ELEMENTS else "]"
        return f"shape {tuple(array.shape)} {array.dtype} {values[:-1]}{more}"
    if isinstance(value, (tuple, list)) and any(_is_array(v) for v in value):
        return "(" + "; ".join(short(v) for v in value) + ")"
    text = repr(value)
    return text if len(text) <= 100 else text[:100] + "..."


def describe_call(name: str, inputs: dict | None) -> str:
    if not inputs:
        return f"  call:     {name}(...)"
    args = ", ".join(f"{key}={describe(value)}" for key, value in inputs.items())
    return f"  call:     {name}({args})"


def _lines(name, inputs, expected, got, *extra):
    return "\n".join([describe_call(name, inputs), f"  expected: {describe(expected)}",
                      f"  got:      {describe(got)}", *extra])


def _both(name, inputs, expected, got, *extra):
    """`fail`'s details, expected and got for a wrong value: the long and the short form."""
    return _lines(name, inputs, expected, got, *extra), short(expected), short(got)


# ---- the checks ---------------------------------------------------------------------------

def _close(got, expected, rtol, atol) -> bool:
    """Whether `got` is an array (or number) of expected's shape with close values."""
    try:
        got_array = np.asarray(to_numpy(got) if _is_array(got) else got, dtype=np.float64)
        exp_array = np.asarray(to_numpy(expected), dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got_array.shape == exp_array.shape and bool(
        np.allclose(got_array, exp_array, rtol=rtol, atol=atol, equal_nan=True))


def mistake_hint(got, mistakes, hint: str, same=None) -> str:
    """The hint naming the first known mistake whose answer `got` equals, else `hint`.

    `mistakes` is a sequence of (description, wrong answer or a function returning it); `same`
    compares two answers (default: close arrays).
    """
    same = same or (lambda a, b: _close(a, b, 1e-7, 1e-10))
    for description, wrong in mistakes or ():
        try:
            value = wrong() if callable(wrong) else wrong
        except Exception:                     # a mistake that cannot even be computed here
            continue
        if same(got, value):
            return f"your answer is what {description} gives; {hint}"
    return hint


def check_array(name: str, got, expected, hint: str, inputs: dict | None = None,
                rtol: float = 1e-7, atol: float = 1e-10, check_dtype: bool = False,
                what: str = "the result", mistakes=None):
    """`got` must be an array-like shaped like `expected` with close values (nan matches nan).

    `mistakes`: see `mistake_hint`; the hint of a wrong answer names the mistake it matches.
    """
    __tracebackhide__ = True
    if mistakes and not _close(got, expected, rtol, atol) and got is not None:
        hint = mistake_hint(got, mistakes, hint, lambda a, b: _close(a, b, rtol, atol))
    if got is None:
        fail(f"{name} returned None instead of {what}",
             "did you forget the `return` statement?", *_both(name, inputs, expected, got))
    if isinstance(got, (tuple, list)) and _is_array(expected):
        fail(f"{name} returned a {type(got).__name__} where {what} should be one array",
             hint, *_both(name, inputs, expected, got))
    got_array = to_numpy(got) if _is_array(got) else np.asarray(got)
    expected_array = to_numpy(expected)
    if got_array.shape != expected_array.shape:
        fail(f"{name}: {what} has shape {got_array.shape}, expected {expected_array.shape}",
             hint, *_both(name, inputs, expected, got))
    if check_dtype and got_array.dtype != expected_array.dtype:
        fail(f"{name}: {what} has dtype {got_array.dtype}, expected {expected_array.dtype}",
             hint, *_both(name, inputs, expected, got))
    if got_array.dtype.kind not in "biuf":
        fail(f"{name}: {what} has dtype {got_array.dtype}, expected numbers "
             f"({expected_array.dtype})", hint, *_both(name, inputs, expected, got))
    exp = expected_array.astype(np.float64)
    val = got_array.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isclose(val, exp, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(bad, np.abs(val - exp), 0.0)
    diff = np.where(np.isnan(diff), np.inf, diff)          # nan where a number was due: worst
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    where = f"at index {tuple(int(i) for i in worst)}" if worst else ""
    detail = (f"  {int(bad.sum())} of {bad.size} values differ (rtol {rtol:g}, atol {atol:g}); "
              f"the worst {where}: expected {float(exp[worst])!r}, got {float(val[worst])!r}")
    fail(f"{name}: wrong values in {what}", hint,
         *_both(name, inputs, expected, got, detail))


def _equal(got, expected) -> bool:
    if _is_array(expected):
        return got is not None and np.shape(got) == expected.shape and not np.any(
            (to_numpy(got) if _is_array(got) else np.asarray(got)) != to_numpy(expected))
    return _comparable(got, expected) and got == expected


def check_equal(name: str, got, expected, hint: str, inputs: dict | None = None,
                what: str = "the result", mistakes=None):
    """`got == expected` exactly: strings, numbers, None, booleans, integer arrays.

    `mistakes`: see `mistake_hint`; the hint of a wrong answer names the mistake it matches.
    """
    __tracebackhide__ = True
    if mistakes and not _equal(got, expected):
        hint = mistake_hint(got, mistakes, hint, _equal)
    if _is_array(expected):
        if got is None or np.shape(got) != expected.shape:
            fail(f"{name}: {what} has shape {np.shape(got) if got is not None else None}, "
                 f"expected {expected.shape}", hint, *_both(name, inputs, expected, got))
        got_array = to_numpy(got) if _is_array(got) else np.asarray(got)
        differ = got_array != to_numpy(expected)
        if np.any(differ):
            first = tuple(int(i) for i in np.argwhere(differ)[0])
            detail = (f"  {int(np.sum(differ))} of {differ.size} entries differ; the first at "
                      f"index {first}: expected {expected[first]!r}, got {got_array[first]!r}")
            fail(f"{name}: wrong values in {what}", hint,
                 *_both(name, inputs, expected, got, detail))
        return
    if not _comparable(got, expected) or got != expected:
        fail(f"{name}: expected {expected!r}, got {got!r}", hint,
             *_both(name, inputs, expected, got))


def _comparable(got, expected) -> bool:
    """Whether got is the same kind of value as expected (a NumPy scalar counts as a number)."""
    if isinstance(expected, bool):
        return isinstance(got, (bool, np.bool_))
    if isinstance(expected, (int, float)):
        return isinstance(got, (int, float, np.integer, np.floating)) \
            and not isinstance(got, (bool, np.bool_))
    return type(got) is type(expected)


def check_pair(name: str, got, expected, parts: tuple[str, ...], hint: str,
               inputs: dict | None = None, mistakes=None, **tolerance):
    """`got` must be a tuple of arrays close to the tuple `expected`; `parts` name them.

    `mistakes` (see `mistake_hint`) hold whole wrong tuples; the hint names the one that
    matches the part that is wrong.
    """
    __tracebackhide__ = True
    kind = "pair" if len(parts) == 2 else f"tuple of {len(parts)}"
    if not (isinstance(got, (tuple, list)) and len(got) == len(parts)):
        fail(f"{name} must return a {kind} ({', '.join(parts)}), got {describe(got)}", hint,
             _lines(name, inputs, tuple(expected), got))
    for i, (part, got_part, expected_part) in enumerate(zip(parts, got, expected)):
        part_mistakes = [(text, (lambda wrong=wrong, i=i: (wrong() if callable(wrong)
                                                          else wrong)[i]))
                         for text, wrong in (mistakes or ())]
        check_array(name, got_part, expected_part, hint, inputs, what=part,
                    mistakes=part_mistakes, **tolerance)
