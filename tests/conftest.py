"""Shared pytest set-up: markers that skip cleanly, and the hypothesis `ci` profile."""
import pytest

from tests import strategies  # noqa: F401  (registers and loads the hypothesis profiles)


def pytest_addoption(parser):
    parser.addoption("--run-golden-live", action="store_true", default=False,
                     help="run the live cross-checks against torch + transformers (make golden)")


def _gpu_available():
    from minit5 import backend
    return backend.gpu_available()


def pytest_collection_modifyitems(config, items):
    live = config.getoption("--run-golden-live")
    gpu = _gpu_available()
    skip_live = pytest.mark.skip(reason="live golden check: run `make golden`")
    skip_gpu = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    # get_closest_marker, not `"gpu" in item.keywords`: keywords also hold test names and
    # parameter ids, so a test parametrized with the string "gpu" would be skipped too.
    for item in items:
        if item.get_closest_marker("golden_live") and not live:
            item.add_marker(skip_live)
        if item.get_closest_marker("gpu") and not gpu:
            item.add_marker(skip_gpu)
