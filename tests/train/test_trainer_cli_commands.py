"""Every command `minit5 --help` lists has a module behind it (no advertised ghost)."""
import importlib

from minit5.cli import COMMANDS, build_parser


def test_every_listed_command_exists():
    for name in COMMANDS:
        module = importlib.import_module(f"minit5.commands.{name}")
        assert callable(module.add_parser), name
    assert "bench" not in COMMANDS, "the benchmarks run with `make bench`, not the CLI"
    assert "bench" not in build_parser().format_help()
