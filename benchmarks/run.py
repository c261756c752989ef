"""`make bench`: every benchmark, one after another (append the figures to RESULTS.md by hand,
with the date, the machine and the command; see that file for the format).

CPU: the train step and forward pass against PyTorch at five shapes (with the matmul limit and
peak memory), and greedy and 4-beam generation against transformers.
GPU (where CuPy and torch see one): the kernel lab and the train step at t5-small and t5-base
shapes; without one these say so and are skipped.
"""
import pathlib
import runpy
import sys

HERE = pathlib.Path(__file__).resolve().parent
RUNS = [("bench_train.py", ["--memory"]), ("bench_generate.py", []), ("kernels_lab.py", []),
        ("bench_train.py", ["--device", "gpu", "--shape", "t5-small", "--batch", "64"]),
        ("bench_train.py", ["--device", "gpu", "--shape", "t5-base", "--batch", "32"])]

if __name__ == "__main__":
    sys.path[:0] = [str(HERE), str(HERE.parent)]     # the shared timing module; minit5
    for script, args in RUNS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        sys.argv = [script, *args]
        runpy.run_path(str(HERE / script), run_name="__main__")
