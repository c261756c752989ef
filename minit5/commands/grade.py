"""`minit5 grade [EXERCISE | CHAPTER] [--impl student|reference] [--path DIR]`: grade exercises.

    minit5 grade 4.2                  # one exercise
    minit5 grade 4                    # every exercise of chapter 4
    minit5 grade                      # all of them
    minit5 grade 4 --path ~/answers   # a copy of the exercise files kept elsewhere

Runs the graders (pytest + hypothesis, `exercises/graders/`) of the selected exercises and prints
a score table, then the first failure of each exercise that failed: what was wrong, a short
expected/got for a wrong value, and a hint. The exit status
is 0 when every selected exercise passes. `--impl reference` grades the library against itself.
The graders live in the repository, beside the `minit5` package, so this needs a checkout.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import minit5

IMPLS = ("student", "reference")


def repo_root() -> Path:
    """The checkout holding `exercises/` beside `minit5/`."""
    root = Path(minit5.__file__).resolve().parents[1]
    if not (root / "exercises" / "graders").is_dir():
        raise FileNotFoundError(f"minit5 grade needs the repository checkout, with exercises/ "
                                f"beside minit5/; there is none at {root}. Install minit5 from "
                                f"a clone with `pip install -e .`")
    return root


def load_exercises(root: Path):
    """The exercise table, `exercises/reference.py`'s EXERCISES (id -> Exercise)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from exercises.reference import EXERCISES
    return EXERCISES


def add_parser(subparsers):
    """Add `grade` to an argparse `subparsers`."""
    parser = subparsers.add_parser("grade", help="grade the exercises and print a score table",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("exercise", nargs="?", default=None,
                        help="an exercise such as 4.2, or a chapter such as 4 (default: all)")
    parser.add_argument("--impl", choices=IMPLS, default="student",
                        help="grade your exercise files (default) or the library itself")
    parser.add_argument("--path", default=None, metavar="DIR",
                        help="folder with your exNN_topic.py files (default: exercises/ in "
                             "the repository)")
    parser.set_defaults(func=run)
    return parser


def select(exercises, which: str | None) -> list:
    """The exercises named by "4.2" (one), "4" (a chapter) or None (all), in order."""
    if which is None:
        return list(exercises.values())
    which = which.strip().removeprefix("ex").replace("_", ".")
    if which in exercises:
        return [exercises[which]]
    chapter = [e for e in exercises.values() if e.chapter == which]
    if chapter:
        return chapter
    chapters = sorted({e.chapter for e in exercises.values()}, key=int)
    raise ValueError(f"no exercise or chapter {which!r}: exercises are "
                     f"{', '.join(exercises)}; chapters {', '.join(chapters)}")


# ---- running the graders -------------------------------------------------------------------

@dataclass
class Result:
    """How one exercise fared: its tests' outcomes and its first failure."""
    exercise: object
    passed: int = 0
    failed: int = 0
    first_failure: str | None = None
    hint: str | None = None
    kind: str | None = None          # of the first failure: not_done, unavailable, wrong, error
    expected: str | None = None      # of the first failure, in one short line (wrong values)
    got: str | None = None

    @property
    def status(self) -> str:
        if self.failed == 0:
            return "passed" if self.passed else "no tests"
        if self.kind == "not_done" and self.passed == 0:
            return "not done"
        return "failed"

    @property
    def points(self) -> int:
        return self.exercise.points if self.status == "passed" else 0


def _explain(exc):
    """(summary, hint, kind, expected, got) for an exception that failed a grader."""
    while getattr(exc, "exceptions", None):       # hypothesis: several distinct failures
        exc = exc.exceptions[0]
    summary = getattr(exc, "summary", None)
    if summary is not None:
        return (summary, getattr(exc, "hint", None), getattr(exc, "kind", "wrong"),
                getattr(exc, "expected", None), getattr(exc, "got", None))
    text = str(exc).strip().splitlines()
    first = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return (f"your code raised {first}",
            "run the command below to see the traceback", "error", None, None)


class _Collector:
    """A pytest plugin that files every grader's outcome under its exercise."""

    def __init__(self, results: dict):
        self.results = results
        self.by_marker = {r.exercise.marker: r for r in results.values()}
        self.problems: list[str] = []      # collection errors

    def _result_for(self, item):
        for mark in item.iter_markers():
            if mark.name in self.by_marker:
                return self.by_marker[mark.name]
        return None

    def pytest_collectreport(self, report):
        if report.failed:
            self.problems.append(f"{report.nodeid}: {report.longreprtext.strip()}")

    def pytest_runtest_makereport(self, item, call):
        result = self._result_for(item)
        if result is None:
            return
        if call.excinfo is not None and not call.excinfo.errisinstance(_skip_exception()):
            result.failed += 1
            if result.first_failure is None:
                (result.first_failure, result.hint, result.kind, result.expected,
                 result.got) = _explain(call.excinfo.value)
        elif call.when == "call" and call.excinfo is None:
            result.passed += 1


def _skip_exception():
    import pytest
    return pytest.skip.Exception


def grade(exercises: list, impl: str = "student", path=None, quiet: bool = True):
    """Run the graders of `exercises`; returns ({id: Result}, pytest's exit code)."""
    import pytest
    root = repo_root()
    results = {e.id: Result(e) for e in exercises}
    collector = _Collector(results)
    args = [str(root / "exercises" / "graders"),
            "-m", " or ".join(e.marker for e in exercises),
            f"--impl={impl}", f"--rootdir={root}", "-c", str(root / "pyproject.toml"),
            "-p", "no:cacheprovider", "--tb=no", "-rN", "--no-header", "--disable-warnings",
            "--hypothesis-profile=grade"]
    if path is not None:
        args.append(f"--path={Path(path).resolve()}")
    if quiet:
        args.append("-q")
    code = pytest.main(args, plugins=[collector])
    for problem in collector.problems:
        print(f"grader collection error: {problem}", file=sys.stderr)
    return results, int(code)


# ---- the report ----------------------------------------------------------------------------

def format_table(results: list) -> str:
    width = max(len(r.exercise.title) for r in results)
    rows = [f"  {'exercise':<9}{'title':<{width + 2}}{'status':<10}{'tests':>7}{'points':>8}"]
    for r in results:
        tests = f"{r.passed}/{r.passed + r.failed}"
        points = f"{r.points}/{r.exercise.points}"
        rows.append(f"  {r.exercise.id:<9}{r.exercise.title:<{width + 2}}{r.status:<10}"
                    f"{tests:>7}{points:>8}")
    done = sum(r.status == "passed" for r in results)
    earned = sum(r.points for r in results)
    possible = sum(r.exercise.points for r in results)
    rows.append(f"  {'total':<9}{f'{done} of {len(results)} exercises passed':<{width + 2}}"
                f"{'':<10}{'':>7}{f'{earned}/{possible}':>8}")
    return "\n".join(rows)


def format_failures(results: list, impl: str, path) -> str:
    graders = repo_root() / "exercises" / "graders"
    lines = []
    for r in results:
        if r.status == "passed":
            continue
        e = r.exercise
        lines.append(f"{e.id}: {r.first_failure or 'no grader ran'}")
        if r.expected is not None:
            lines.append(f"    expected: {r.expected}")
            lines.append(f"    got:      {r.got}")
        if r.hint:
            lines.append(f"    hint: {r.hint}")
        if r.kind in ("wrong", "error"):
            extra = f" --path {Path(path).resolve()}" if path else ""
            extra += " --impl=reference" if impl == "reference" else ""
            lines.append(f"    details: python -m pytest {graders} -m {e.marker}{extra}")
    return "\n".join(lines)


def run(args) -> int:
    """Run the parsed `minit5 grade` command; returns the exit status."""
    try:
        root = repo_root()
        selected = select(load_exercises(root), args.exercise)
    except (FileNotFoundError, ValueError) as err:
        print(f"minit5 grade: error: {err}", file=sys.stderr)
        return 2
    if args.path is not None and not Path(args.path).is_dir():
        print(f"minit5 grade: error: --path {args.path}: no such folder; pass the folder that "
              "holds your exNN_topic.py files", file=sys.stderr)
        return 2
    results, code = grade(selected, impl=args.impl, path=args.path)
    if code not in (0, 1):          # interrupted, internal error, usage error, nothing collected
        print(f"minit5 grade: error: the graders did not run (pytest exit code {code})",
              file=sys.stderr)
        return 2
    ordered = [results[e.id] for e in selected]
    source = "the minit5 library" if args.impl == "reference" else \
        str(Path(args.path).resolve() if args.path else root / "exercises")
    print(f"\nminit5 grade: {source}\n")
    print(format_table(ordered))
    failures = format_failures(ordered, args.impl, args.path)
    if failures:
        print(f"\n{failures}")
    return 0 if all(r.status == "passed" for r in ordered) else 1
