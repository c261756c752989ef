"""minit5 experiment NAME [--scale S] [--seeds N] [--device D] | minit5 experiment --list

Runs a miniature of one of the paper's tables (or `all` of them, in turn) and writes
experiments/results/NAME.json (per-seed metrics, settings, versions, machine, date, wall time)
with a plot beside it. --scale multiplies the step budgets (0.05 for a quick look); a scale
other than 1 writes NAME_scaleS.json, so the recorded results are not overwritten.
"""
from __future__ import annotations


def add_parser(subparsers):
    p = subparsers.add_parser("experiment", help="run a miniature of one of the paper's tables",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("name", nargs="?", help="experiment name (see --list), or all")
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every step budget")
    p.add_argument("--seeds", type=int, help="seeds 0..N-1 (default: the experiment's own)")
    p.add_argument("--device", default="default", choices=["default", "cpu", "gpu", "auto"],
                   help="where to train (default: MINIT5_DEVICE, else the CPU)")
    p.add_argument("--out", help="results file (default: experiments/results/NAME.json)")
    p.add_argument("--work", default="runs/experiments",
                   help="folder for checkpoints and logs (NAME/ inside it)")
    p.add_argument("--jobs", type=int, help="training runs at a time (default: one per CPU core, "
                                            "at most 2)")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.set_defaults(func=run)
    return p


def list_experiments() -> str:
    from minit5.experiments import all_experiments
    lines = [f"{'name':<8} {'paper':<10} {'section':<8} {'CPU budget':>11}  rows"]
    for e in all_experiments():
        lines.append(f"{e.name:<8} {e.table:<10} {e.section:<8} {e.cpu_minutes:>7.0f} min  "
                     f"{' | '.join(e.rows)}")
    return "\n".join(lines) + ("\n(CPU budget: wall time at --scale 1 with the default seeds "
                               "on 2 CPU cores)")


def kept(work) -> str:
    """What a stopped experiment leaves in its work folder, and how to go on."""
    return (f"The finished runs cached under {work} (pre-trained models, and fine-tuning "
            "results where the experiment caches them) are reused by the same command; runs "
            "that were in progress start again")


def run(args):
    import pathlib
    import sys

    from minit5.experiments import MODULES, get
    from minit5.experiments.core import WorkerDied, format_table, run_experiment

    if args.list:
        print(list_experiments())
        return 0
    if args.name is None:
        raise ValueError("name an experiment (minit5 experiment table1) or list them with "
                         "minit5 experiment --list")
    names = list(MODULES) if args.name == "all" else [args.name]
    if args.out is not None and len(names) > 1:
        raise ValueError("--out names one results file: use it with one experiment, not all")
    for name in names:
        experiment = get(name)
        work = pathlib.Path(args.work) / name
        try:
            results = run_experiment(experiment, args.scale, args.seeds, args.device, work,
                                     args.out, args.progress, args.jobs)
        except KeyboardInterrupt:
            print(f"minit5 experiment: interrupted; no results file was written for {name}. "
                  f"{kept(args.work)}", file=sys.stderr)
            return 130
        except WorkerDied as e:
            raise WorkerDied(f"{e}. {kept(args.work)}") from None
        minutes = results["provenance"]["wall_seconds"] / 60
        print(f"{experiment.table} ({experiment.section}): {experiment.title}\n"
              f"{format_table(results)}\n{results['metric']}; {minutes:.1f} min")
    return 0
