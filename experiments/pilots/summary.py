"""Print the pilots' results from their files (experiments/pilots/results/)."""
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
    for path in sorted((HERE / "results").glob("world_learns*.json")):
        record = json.loads(path.read_text())
        print(f"{path.name}: from scratch, training-set score (first "
              f"{record['design']['finetune']['train_check']} training items) by step")
        for run in record["runs"]:
            print(f"  {run['task']:<11} lr {run['lr']:g}: "
                  + ", ".join(f"{step} {score:.1f}" for step, score, _ in run["train_curve"]))
        print()
    for path in sorted((HERE / "results").glob("world_formats*.json")):
        record = json.loads(path.read_text())
        print(f"{path.name}: best validation score, training-set score after the last step "
              f"(training items drawn alike over the nouns for {record['uniform_train']})")
        for run in record["runs"]:
            print(f"  {run['task']:<8} {run['arm']:<8} lr {run['lr']:g}: validation "
                  f"{run['validation']:5.1f} at step {run['step']}, training set at the end "
                  f"{run['train_end']:5.1f}")
        print()


if __name__ == "__main__":
    main()
