"""Which implementation the graders call: the student's stubs, or the library (the reference).

A grader names its exercise once, at the top of its file,

    shift_right = exercise("4.4")

and calls `shift_right(...)` like any function. Under `--impl=reference` that runs the library's
answer (`exercises/reference.py`); under `--impl=student` (the default) it runs the function of
that name in the student's `exNN_topic.py`, read from `--path` (default: this repository's
`exercises/`). The student's file is imported on the first call, not when pytest collects the
graders, so a file that does not even parse fails its own exercises with a clear message and
leaves the others alone.

Both sides are called so that the inputs cannot leak from one to the other: `reference(...)`
hands the library copies of the arrays it is given, and every call of a student's function is
followed by a check that its array, list and dict arguments are exactly as they were (an
in-place `x -= x.max()` fails with a message saying so).
"""
from __future__ import annotations

import copy
import dataclasses
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path

import numpy as np

from exercises.graders.report import fail
from exercises.reference import EXERCISES

EXERCISES_DIR = Path(__file__).resolve().parents[1]
IMPLS = ("student", "reference")

_selected = {"impl": "student", "path": EXERCISES_DIR}
_modules: dict = {}     # stub file stem -> its imported module, or the GraderStop it raised


class GraderStop(BaseException):
    """Ends a grader at once: the exercise is not written yet, or its file cannot be imported.

    A BaseException, not an Exception, so hypothesis does not search for a smaller example that
    fails in the same way (every example does). `kind` is "not_done" or "unavailable".
    """

    def __init__(self, kind: str, summary: str, hint: str):
        self.kind, self.summary, self.hint = kind, summary, hint
        super().__init__(f"{summary}\nhint: {hint}")


def configure(impl: str, path=None) -> None:
    """Choose the implementation for this session (called by conftest.py)."""
    if impl not in IMPLS:
        raise ValueError(f"--impl must be one of {', '.join(IMPLS)}, got {impl!r}")
    _selected["impl"] = impl
    _selected["path"] = Path(path).resolve() if path else EXERCISES_DIR
    _modules.clear()


def selected() -> tuple[str, Path]:
    return _selected["impl"], _selected["path"]


def _import_student_file(stem: str):
    """Import `stem`.py from the selected folder; a GraderStop says why it could not be."""
    folder = _selected["path"]
    path = folder / f"{stem}.py"
    if not path.is_file():
        raise GraderStop("unavailable", f"{stem}.py was not found in {folder}",
                         f"--path must be a folder holding the exercise files ({stem}.py, ...); "
                         f"copy them from {EXERCISES_DIR}")
    name = f"_student_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        del sys.modules[name]
        line = (err.text or "").strip()
        raise GraderStop("unavailable",
                         f"{stem}.py has a syntax error at line {err.lineno}: {err.msg}",
                         f"fix line {err.lineno} of {path}" + (f": {line!r}" if line else "")
                         ) from None
    except Exception as err:                     # an error while the module's code runs
        del sys.modules[name]
        frames = [f for f in traceback.extract_tb(err.__traceback__)
                  if Path(f.filename).resolve() == path.resolve()]
        at = f" (line {frames[-1].lineno})" if frames else ""
        raise GraderStop("unavailable",
                         f"{stem}.py could not be imported: {type(err).__name__}: {err}{at}",
                         f"run `python {path}` to see the full traceback") from None
    return module


def _student_module(stem: str):
    if stem not in _modules:
        try:
            _modules[stem] = _import_student_file(stem)
        except GraderStop as stop:
            _modules[stem] = stop
    found = _modules[stem]
    if isinstance(found, GraderStop):
        raise GraderStop(found.kind, found.summary, found.hint)
    return found


def reference(exercise_id: str):
    """The library's answer to an exercise (what the student's function is compared with),
    computed on copies of the inputs."""
    library = EXERCISES[exercise_id].reference

    def on_copies(*args, **kwargs):
        return library(*_snapshot(args), **_snapshot(kwargs))
    return on_copies


# ---- inputs left as they were ------------------------------------------------------------

_PLAIN = (str, bytes, int, float, complex, bool, type(None), np.generic, np.dtype)


def _snapshot(value):
    """A deep copy of the data in `value` (arrays, lists, tuples, dicts, plain values).

    A dataclass (a T5Config) is deep-copied and compared with == afterwards. Other objects (a
    Tensor graph, a random Generator) are passed through as they are: a generator is meant to
    advance, and a grader that hands over a graph checks it itself.
    """
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return copy.deepcopy(value)          # a config: compared field by field afterwards
    return value


def _same(before, after) -> bool:
    """Whether `after` still holds the data `before` (a `_snapshot`) recorded."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and after.shape == before.shape \
            and after.dtype == before.dtype and np.array_equal(after, before, equal_nan=True)
    if isinstance(before, (list, tuple)):
        return type(after) is type(before) and len(after) == len(before) \
            and all(_same(b, a) for b, a in zip(before, after))
    if isinstance(before, dict):
        return isinstance(after, dict) and after.keys() == before.keys() \
            and all(_same(before[k], after[k]) for k in before)
    if isinstance(before, _PLAIN):
        return before is after or before == after or (before != before and after != after)
    if dataclasses.is_dataclass(before) and not isinstance(before, type):
        try:
            return type(after) is type(before) and bool(before == after)
        except (TypeError, ValueError):          # fields == cannot compare (arrays)
            return True
    return True                 # an object passed through: not compared here


def _check_inputs_unchanged(name: str, reference, args, kwargs, before):
    """Fail with the argument's name if the student's call changed one of its inputs."""
    __tracebackhide__ = True
    try:
        bound = inspect.signature(reference).bind(*args, **kwargs).arguments
        snapshots = inspect.signature(reference).bind(*before[0], **before[1]).arguments
    except TypeError:
        return          # the call itself did not fit the signature; the grader reports that
    for argument, value in bound.items():
        if not _same(snapshots[argument], value):
            fail(f"{name} changed its input `{argument}` in place",
                 f"leave `{argument}` as the caller passed it: an in-place operation (`-=`, "
                 f"`a[...] = `, `.sort()`, `.append`) on an input changes the caller's data; "
                 f"work on a new array or a copy instead")


def _is_default(value, default) -> bool:
    if default is inspect.Parameter.empty or type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


def exercise(exercise_id: str) -> "ExerciseFunction":
    """The function a grader calls for exercise `exercise_id` ("4.2")."""
    return ExerciseFunction(exercise_id)


class ExerciseFunction:
    """Calls the selected implementation of one exercise, found at call time."""

    def __init__(self, exercise_id: str):
        self.info = EXERCISES[exercise_id]

    def __repr__(self):
        return f"exercise({self.info.id!r}: {self.info.name})"

    def resolve(self):
        impl, _ = selected()
        if impl == "reference":
            return self.info.reference
        module = _student_module(self.info.module)
        function = getattr(module, self.info.name, None)
        if not callable(function):
            raise GraderStop("unavailable",
                             f"{self.info.module}.py has no function {self.info.name}",
                             f"keep the name and signature of the stub for Exercise "
                             f"{self.info.id}")
        return function

    def with_defaults(self, *args, **kwargs):
        """Call it with every keyword argument that equals the stub's default left out, so
        that a grader drawing optional arguments also checks the defaults themselves."""
        __tracebackhide__ = True
        parameters = inspect.signature(self.info.reference).parameters
        kept = {k: v for k, v in kwargs.items()
                if not (k in parameters and _is_default(v, parameters[k].default))}
        return self(*args, **kept)

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        function = self.resolve()
        before = (_snapshot(args), _snapshot(kwargs))
        try:
            result = function(*args, **kwargs)
        except NotImplementedError as err:
            stub = err.args and str(err.args[0]).startswith("Exercise")
            raise GraderStop(
                "not_done",
                f"Exercise {self.info.id} is not done yet: {self.info.name} in "
                f"{self.info.module}.py raises NotImplementedError"
                + (f"({str(err.args[0])!r})" if stub else ""),
                f"replace the `raise NotImplementedError` under `# TODO: Exercise "
                f"{self.info.id}` with your code") from None
        _check_inputs_unchanged(self.info.name, self.info.reference, args, kwargs, before)
        return result
