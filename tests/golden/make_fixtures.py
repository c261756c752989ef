"""Write the golden fixtures in tests/golden/fixtures/ (needs torch + transformers).

Run with `make fixtures`. Each `gen_*.py` beside this file owns one family of fixtures and
exposes `make(out_dir)`; the live checks (`make golden`) call the same functions into a
temporary folder and compare minit5 against what transformers produced there.
"""
import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

FAMILIES = sorted(p.stem for p in HERE.glob("gen_*.py"))


def main():
    out = HERE / "fixtures"
    out.mkdir(exist_ok=True)
    for name in FAMILIES:
        module = importlib.import_module(f"tests.golden.{name}")
        print(f"[make_fixtures] {name} -> {out}")
        module.make(out)


if __name__ == "__main__":
    main()
