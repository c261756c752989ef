"""pytest set-up for the graders: choose the implementation, keep failures readable.

    pytest exercises/graders                      # grade exercises/exNN_*.py (the default)
    pytest exercises/graders -m ex4_2             # one exercise
    pytest exercises/graders --path ~/my_answers  # a copy of the exercise files elsewhere
    pytest exercises/graders --impl=reference     # the library against itself (must pass)

The self-check of the graders (test_graders_selfcheck.py) runs pytest on this folder itself, so
it is collected only when named on the command line, as `make test` does.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import Phase, settings

from exercises.graders import implementations
from tests import strategies  # noqa: F401  (registers and loads the hypothesis profiles)

SELFCHECK = "test_graders_selfcheck.py"

# `minit5 grade` prints only the verdict and the hint, not the failing example, so it skips
# hypothesis' search for the smallest failing example (seconds to minutes with a wrong answer).
# `pytest exercises/graders -m ex4_2` keeps it and shows that example.
settings.register_profile("grade", parent=settings.get_profile("ci"),
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])


def pytest_addoption(parser):
    group = parser.getgroup("minit5 graders")
    group.addoption("--impl", choices=implementations.IMPLS, default="student",
                    help="grade the student's exercise files (default) or the library itself")
    group.addoption("--path", default=None, metavar="DIR",
                    help="folder holding the student's exNN_topic.py files "
                         f"(default: {implementations.EXERCISES_DIR})")


def pytest_configure(config):
    impl = config.getoption("--impl", default="student")
    path = config.getoption("--path", default=None)
    if impl == "student" and path is not None and not Path(path).is_dir():
        raise pytest.UsageError(f"--path {path}: no such folder; pass the folder that holds "
                                "your ex02_autograd.py, ex04_model.py, ...")
    implementations.configure(impl, path)


def pytest_report_header(config):
    impl, path = implementations.selected()
    return f"graded: {impl}" + (f" ({path})" if impl == "student" else " (the minit5 library)")


def pytest_ignore_collect(collection_path, config):
    # Collected only when given explicitly (pytest does not ask this hook about such paths).
    if collection_path.name == SELFCHECK:
        return True
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and isinstance(call.excinfo.value, implementations.GraderStop):
        report.longrepr = str(call.excinfo.value)    # the message alone; no traceback to read
