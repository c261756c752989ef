"""Print the pilots' probe curves from their results files (experiments/pilots/results/)."""
import json
import pathlib

HERE = pathlib.Path(__file__).parent


def main():
    for path in sorted((HERE / "results").glob("*.json")):
        record = json.loads(path.read_text())
        print(f"{path.name}: centred probe accuracy by noun-frequency band "
              f"(chance: {record['chance']})")
        bands = list(record["probes"][0]["centred"])
        print(f"{'step':>6} {'tokens':>9} " + " ".join(f"{b:>26}" for b in bands))
        for probe in record["probes"]:
            cells = [" ".join(f"{probe['centred'][b][k]:.2f}"
                              for k in ("plural", "category", "habitat_in_category"))
                     for b in bands]
            print(f"{probe['step']:>6} {probe['tokens']:>9} " + " ".join(f"{c:>26}" for c in cells))
        print("(each cell: plural, category, habitat within its category)\n")


if __name__ == "__main__":
    main()
