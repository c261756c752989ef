"""The graders are tested too (DESIGN.md, "Exercises").

* Pointed at the library (`--impl=reference`) every grader passes, and every exercise has one.
* Pointed at the untouched stubs every grader fails (none passes, none errors), each saying the
  exercise is not done yet.
* A stub file with a syntax error fails its own exercises with "exNN_topic.py has a syntax error
  at line L: ..." and leaves the other files' graders alone.
* Every stub follows the convention (docstring, `# TODO: Exercise N.M`, the NotImplementedError,
  the reference's signature) and every exercise has its marker registered.
* No chapter defines a function under an exercise's name: the exercise asks for the next step
  after what the chapter builds, so pasting the chapter's code into the stub is not an answer.

The graders run in subprocesses, as a student runs them. This file is collected only when named
on the command line (`make test` does); a plain `pytest exercises/graders` skips it.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from exercises.reference import EXERCISES

REPO = Path(__file__).resolve().parents[2]
GRADERS = REPO / "exercises" / "graders"
STUBS = sorted({e.module for e in EXERCISES.values()})
RESULTS = "GRADE-RESULTS "

# A handful of examples per property is enough to see that a grader runs; the graders
# themselves default to the full number.
ENV = {**os.environ, "HYPOTHESIS_MAX_EXAMPLES": "10"}

GRADE_SCRIPT = f"""
import json, sys
from minit5.commands import grade
selection, impl, path = sys.argv[1] or None, sys.argv[2], sys.argv[3] or None
exercises = grade.select(grade.load_exercises(grade.repo_root()), selection)
results, code = grade.grade(exercises, impl=impl, path=path)
print({RESULTS!r} + json.dumps({{"code": code, "results": {{
    key: {{"passed": r.passed, "failed": r.failed, "status": r.status, "kind": r.kind,
           "summary": r.first_failure, "hint": r.hint, "expected": r.expected,
           "got": r.got}} for key, r in results.items()}}}}))
"""


def grade_in_subprocess(selection="", impl="student", path=""):
    """`minit5 grade` in a fresh interpreter; returns (pytest's exit code, per-exercise dict)."""
    run = subprocess.run([sys.executable, "-c", GRADE_SCRIPT, selection, impl, str(path)],
                         cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
    lines = [line for line in run.stdout.splitlines() if line.startswith(RESULTS)]
    assert lines, f"grade printed no results\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    found = json.loads(lines[-1][len(RESULTS):])
    return found["code"], found["results"]


def pytest_in_subprocess(tmp_path, *args):
    """pytest on the graders; returns (exit code, [(test name, outcome, message)], output)."""
    report = tmp_path / "junit.xml"
    run = subprocess.run([sys.executable, "-m", "pytest", str(GRADERS), "-q",
                          "-p", "no:cacheprovider", f"--junitxml={report}", *args],
                         cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert report.exists(), f"pytest wrote no report:\n{output}"
    cases = []
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome, message = child.tag, (child.get("message") or "") + (child.text or "")
        cases.append((f"{case.get('classname')}::{case.get('name')}", outcome, message))
    return run.returncode, cases, output


@pytest.fixture(scope="module")
def reference_results():
    return grade_in_subprocess(impl="reference")


def test_reference_passes_every_grader(reference_results):
    code, results = reference_results
    assert code == 0, results
    assert set(results) == set(EXERCISES)
    for exercise_id, result in results.items():
        assert result["passed"] >= 1, f"Exercise {exercise_id} has no grader"
        assert result["failed"] == 0, f"Exercise {exercise_id}: {result['summary']}"


def test_untouched_stubs_fail_every_grader(tmp_path, reference_results):
    code, cases, output = pytest_in_subprocess(tmp_path, "--impl=student")
    assert code == 1, output
    assert "error" not in output.splitlines()[-1], output        # no collection errors
    assert not [name for name, _, _ in cases if "selfcheck" in name], \
        "the self-check was collected by a plain grader run"
    total = sum(r["passed"] for r in reference_results[1].values())
    assert len(cases) == total, f"{len(cases)} graders ran on the stubs, {total} on the library"
    for name, outcome, message in cases:
        assert outcome == "failure", f"{name}: {outcome} on an untouched stub\n{message}"
        assert "is not done yet" in message, f"{name}: {message}"


def test_syntax_error_fails_that_file_clearly(tmp_path):
    answers = tmp_path / "answers"
    answers.mkdir()
    for stem in STUBS:
        shutil.copy(REPO / "exercises" / f"{stem}.py", answers)
    broken = answers / "ex04_model.py"
    lines = broken.read_text().splitlines()
    lines.insert(9, "def rms_norm(x, weight, eps=1e-6:")          # line 10: a missing ")"
    broken.write_text("\n".join(lines) + "\n")

    code, results = grade_in_subprocess("4", "student", answers)
    assert code == 1
    for exercise_id, result in results.items():
        assert result["passed"] == 0 and result["failed"] >= 1, (exercise_id, result)
        assert result["kind"] == "unavailable", (exercise_id, result)
        assert result["summary"].startswith("ex04_model.py has a syntax error at line 10: "), \
            result["summary"]

    # The same through plain pytest: the chapter's graders fail with the message, the other
    # files' graders run normally, and nothing errors out of collection.
    code, cases, output = pytest_in_subprocess(tmp_path, f"--path={answers}",
                                               "-m", "ex4_1 or ex6_2")
    assert code == 1, output
    assert cases and all(outcome == "failure" for _, outcome, _ in cases), output
    for name, _, message in cases:
        expected = "syntax error at line 10" if "ex04" in name else "is not done yet"
        assert expected in message, f"{name}: {message}"


WRONG_PACKED_SHIFT = """

def packed_shift_right(labels, segment_ids):
    shifted = np.zeros_like(labels)
    shifted[:, 1:] = labels[:, :-1]          # the whole row, not each segment
    return np.where(shifted == -100, 0, shifted)
"""


def test_a_known_mistake_is_named_with_expected_and_got(tmp_path):
    answers = tmp_path / "answers"
    answers.mkdir()
    for stem in STUBS:
        shutil.copy(REPO / "exercises" / f"{stem}.py", answers)
    with open(answers / "ex04_model.py", "a") as stub:     # the later definition wins
        stub.write(WRONG_PACKED_SHIFT)
    code, results = grade_in_subprocess("4.4", "student", answers)
    result = results["4.4"]
    assert code == 1 and result["kind"] == "wrong", result
    assert "shifting the whole row" in result["hint"], result["hint"]
    assert result["expected"].startswith("shape (") and result["got"].startswith("shape ("), \
        result


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_stub_follows_the_convention(exercise_id):
    exercise = EXERCISES[exercise_id]
    path = REPO / "exercises" / f"{exercise.module}.py"
    source = path.read_text()
    namespace = {}
    exec(compile(source, str(path), "exec"), namespace)
    stub = namespace.get(exercise.name)
    assert callable(stub), f"{path.name} has no function {exercise.name}"
    body = source[source.index(f"def {exercise.name}("):]
    end = body.find("\ndef ")
    body = body if end < 0 else body[:end]
    assert f"Exercise {exercise_id}" in (stub.__doc__ or ""), "docstring must name the exercise"
    assert f"# TODO: Exercise {exercise_id}\n" in body
    assert f'raise NotImplementedError("Exercise {exercise_id}")' in body
    reference = inspect.signature(exercise.reference).parameters
    student = inspect.signature(stub).parameters
    assert [(p.name, p.default) for p in student.values()] == \
        [(p.name, p.default) for p in reference.values()], "stub and reference signatures differ"


def test_every_exercise_has_a_registered_marker(pytestconfig):
    registered = {line.split(":")[0].strip() for line in pytestconfig.getini("markers")}
    missing = [e.marker for e in EXERCISES.values() if e.marker not in registered]
    assert not missing, f"add these markers to pyproject.toml: {missing}"


def functions_defined_in_chapters() -> dict:
    """Function name -> the chapter files (chapters/*.md) whose code cells define it."""
    defined = {}
    for chapter in sorted((REPO / "chapters").glob("*.md")):
        for name in re.findall(r"^\s*def (\w+)\(", chapter.read_text(), re.M):
            defined.setdefault(name, []).append(chapter.name)
    return defined


def test_no_chapter_defines_an_exercise():
    defined = functions_defined_in_chapters()
    assert len(defined) > 10, f"found only {sorted(defined)} in chapters/*.md: is the path right?"
    answered = {f"Exercise {e.id} ({e.module}.py: {e.name})": defined[e.name]
                for e in EXERCISES.values() if e.name in defined}
    assert not answered, ("these exercises are answered by a chapter that defines a function "
                          f"of the same name; change the exercise or the chapter: {answered}")
