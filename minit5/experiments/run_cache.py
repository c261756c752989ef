"""One cache for the miniatures' runs: a pre-trained model, a tokenizer or a fine-tuning result
is stored under the settings that made it, and a later run with the same settings reads it
instead of training again. A run is a function of its settings and seed, so the results are the
same either way.

    cache = RunCache(root)
    record = cache.find("pretrained", settings)      # the stored record, or None
    with cache.store("pretrained", settings, {"curves": ...}) as folder:
        ...                                          # write the run's files into `folder`

An entry is the folder ROOT/KIND/KEY/, KEY the first 16 hex digits of the SHA-256 of the
settings as sorted JSON; its settings.json holds {"settings": ..., **record}. The folder is
written whole or not at all (`minit5.io.atomic_directory`). An entry that cannot be read (a
settings.json cut short, other settings under the same key, a file missing) counts as absent:
one line names the file, and the run is made again and replaces it.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import pathlib
import sys

from minit5.io.atomic_directory import atomic_directory
from minit5.io.atomic_file import write_json

RECORD = "settings.json"


def settings_key(settings) -> str:
    """The key of `settings` (JSON types): 16 hex digits of the SHA-256 of its sorted JSON."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


class RunCache:
    """Runs stored under their settings in `root` (see the module docstring)."""

    def __init__(self, root):
        self.root = pathlib.Path(root)

    def folder(self, kind: str, settings) -> pathlib.Path:
        """Where the entry for `settings` lives (whether or not it exists)."""
        return self.root / kind / settings_key(settings)

    def find(self, kind: str, settings, needs=()) -> dict | None:
        """The stored record of `settings` ({"settings", ...}), or None where there is no
        whole entry: no settings.json, one that does not parse or holds other settings, or a
        file of `needs` missing beside it (then a one-line note names the file)."""
        folder = self.folder(kind, settings)
        path = folder / RECORD
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text())
            same = record["settings"] == json.loads(json.dumps(settings))
        except (OSError, ValueError, KeyError, TypeError) as e:
            return _absent(f"{path} cannot be read ({type(e).__name__}: {e})")
        if not same:
            return _absent(f"{path} holds other settings under the same key")
        missing = [name for name in needs if not (folder / name).exists()]
        if missing:
            return _absent(f"{folder} lacks {', '.join(missing)}")
        return record

    @contextlib.contextmanager
    def store(self, kind: str, settings, record: dict):
        """Yield an empty staging folder for the run's files; when the block ends normally,
        settings.json ({"settings": settings, **record}) joins them and the entry replaces
        any earlier one, whole. On an exception nothing is stored."""
        with atomic_directory(self.folder(kind, settings)) as staging:
            yield staging
            write_json(staging / RECORD, {"settings": settings, **record}, indent=None)


def _absent(why: str) -> None:
    print(f"run cache: {why}; running it again", file=sys.stderr)
    return None
