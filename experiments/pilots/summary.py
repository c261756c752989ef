"""Print the pilots' probe curves from their results files (experiments/pilots/results/)."""
import json
import pathlib

HERE = pathlib.Path(__file__).parent


def main():
    for path in sorted((HERE / "results").glob("world*_transfer*.json")):
        record = json.loads(path.read_text())
        print(f"{path.name}: {record['task']}, lr {record['args']['lr']}, "
              f"{record['args']['steps']} steps, {record['args']['train']} fine-tuning nouns, "
              f"{record['test_nouns']} held out ({record['test_share_regular_s']:.0%} regular)")
        for arm, scores in record["arms"].items():
            print(f"  {arm:<13} held out {scores['held_out_exact_match']:.3f}  "
                  f"fine-tuning nouns {scores['train_exact_match']:.3f}  by frequency band "
                  f"{scores['held_out_by_frequency_band']}")
        print()
    for path in sorted((HERE / "results").glob("world_probe*.json")):
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
