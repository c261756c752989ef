"""environment.yml parses and lists the same dependencies, with the same bounds, as
pyproject.toml (runtime + the test and dist extras); the README's commands are the ones CI
runs."""
import pathlib
import re

import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def parse_environment_yml(text):
    """The subset of YAML environment.yml uses: top-level keys, '- item' lists, one nested
    'pip:' list. Anything else is an error, so the file cannot drift into unparsed forms."""
    data, key, nested = {}, None, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if indent == 0:
            m = re.fullmatch(r"([A-Za-z_]+):\s*(.*)", item)
            assert m, f"environment.yml:{number}: expected 'key:' at top level, got {raw!r}"
            key, value = m.groups()
            data[key] = value if value else []
            nested = None
        elif item.startswith("- ") and item.endswith(":"):
            nested = {item[2:-1]: []}
            data[key].append(nested)
        elif item.startswith("- "):
            target = nested[next(iter(nested))] if nested and indent > 2 else data[key]
            if not (nested and indent > 2):
                nested = None
            target.append(item[2:].strip())
        else:
            raise AssertionError(f"environment.yml:{number}: cannot parse {raw!r}")
    return data


def requirement(spec):
    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", spec.strip())
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    env = parse_environment_yml((ROOT / "environment.yml").read_text())
    assert env["name"] == "minit5"
    conda = dict(requirement(d) for d in env["dependencies"] if isinstance(d, str))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any("." in p and "editable" in p for p in pip), "environment.yml must install minit5"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(requirement(d) for d in project["dependencies"]
                  + project["optional-dependencies"]["test"]
                  + project["optional-dependencies"]["dist"])
    assert conda.pop("python") == project["requires-python"]
    conda.pop("pip")
    assert conda == wanted, f"environment.yml {conda} != pyproject.toml {wanted}"


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    for command in ("make test", "make golden"):
        assert command in ci
    for command in ("make demo", "make test"):
        assert command in readme
