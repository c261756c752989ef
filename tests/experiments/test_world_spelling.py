"""The spelling check: what a form's letters and pieces tell of its number."""
import json
import pathlib

import pytest

from minit5.data.world import World
from minit5.data.world_tasks import noun_pools
from minit5.experiments import world_spelling
from minit5.experiments.world_gates import DESIGNS

RECORDED = pathlib.Path(__file__).parents[2] / "experiments" / "results" / "world" / "spelling.json"
WORLD = World.make(300, seed=0)
POOLS = noun_pools(WORLD, seed=0)


class Pieces:
    """A stand-in tokenizer: each of `whole` is one piece, anything else one piece per letter."""

    def __init__(self, whole):
        self.whole = set(whole)

    def encode(self, text, add_eos=True):
        return [text] if text in self.whole else list(text)

    def id_to_piece(self, piece):
        return piece


def test_a_tokenizer_that_keeps_stems_whole_shows_every_number():
    stems_whole = Pieces(n.stem for n in WORLD.nouns)       # a plural: the stem, then letters
    out = world_spelling.spelling_accuracy(WORLD, POOLS, stems_whole)
    assert out["pieces"] > 95
    letters = Pieces(())                                     # every form spelled out
    out = world_spelling.spelling_accuracy(WORLD, POOLS, letters)
    assert 35 < out["last piece"] < 75 and out["last piece"] == out["last 1"]
    assert set(out) == set(world_spelling.FEATURES)


def test_features_read_pieces_and_letters():
    f = world_spelling.features("daxen", Pieces({"dax"}))
    assert f == {"pieces": 5, "last piece": "n", "last 1": "n", "last 2": "en", "last 3": "xen"}
    assert world_spelling.features("dax", Pieces({"dax"}))["pieces"] == 1


def test_recorded_spelling_matches_the_designs():
    if not RECORDED.exists():
        pytest.skip("spelling.json has not been recorded")
    recorded = json.loads(RECORDED.read_text())
    for name, entry in recorded.items():
        assert entry["world"] == DESIGNS[name]["world"]
        assert entry["tokenizer"] == DESIGNS[name]["tokenizer"]
        assert set(entry["accuracy"]) == set(world_spelling.FEATURES)
        assert all(0 <= v <= 100 for v in entry["accuracy"].values())
