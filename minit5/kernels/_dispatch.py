"""Which implementation of a fused op runs: the CUDA kernel, the CPU kernel or the reference.

Each entry point of a kernel file (forward, backward, update) is an `Op` with up to three
implementations of the same maths and the test that picks one:

    cuda        a CUDA kernel; runs when the arrays are CuPy's, the kernels are switched on
                (`_cuda.use_kernels`) and `cuda_applies(*args)` says the kernel covers them
                (dtype, shapes, layout);
    cpu         a CPU kernel (kernels/_cpu.py: the reference's NumPy calls on cache-sized
                blocks, equal bit for bit); runs when `cpu_applies(*args)` says so (plain
                NumPy arrays of the shapes it covers);
    reference   the NumPy maths, written against `xp`: everything else (other dtypes, shapes
                the kernels do not cover, CuPy with the kernels switched off, NumPy
                subclasses).

    forward = Op("rms_norm.forward", reference=reference_forward, cuda=cuda_forward,
                 cuda_applies=..., cpu=cpu_forward, cpu_applies=...)
    forward(x, weight, eps)                 # runs the chosen implementation
    forward.path(x, weight, eps)            # 'cuda' | 'cpu' | 'reference'
    forward.kernel_applies(x, weight, eps)  # whether the CUDA kernel runs

The two tests receive exactly the arguments of the call. The choice is made on every call
from the arguments alone; nothing is cached, so `backend.configure(kernels=False)` takes
effect at the next call.
"""
from __future__ import annotations

from minit5.kernels import _cuda

PATHS = ("cuda", "cpu", "reference")


class Op:
    """One fused op's entry point: calling it runs the first implementation that applies."""

    def __init__(self, name, reference, cuda=None, cuda_applies=None, cpu=None,
                 cpu_applies=None):
        if (cuda is None) != (cuda_applies is None) or (cpu is None) != (cpu_applies is None):
            raise ValueError(f"{name}: give each of cuda and cpu together with the test that "
                             "says when it applies (cuda_applies, cpu_applies)")
        self.name = name
        self.reference, self.cuda, self.cpu = reference, cuda, cpu
        self._cuda_applies, self._cpu_applies = cuda_applies, cpu_applies
        self.__doc__ = reference.__doc__
        self.__name__ = name.rsplit(".", 1)[-1]

    def kernel_applies(self, *args, **kwargs) -> bool:
        """Whether this call would run the CUDA kernel: a CuPy first argument, the kernels
        switched on, and arguments the kernel covers."""
        return (self.cuda is not None and bool(args) and _cuda.use_kernels(args[0])
                and bool(self._cuda_applies(*args, **kwargs)))

    def path(self, *args, **kwargs) -> str:
        """'cuda', 'cpu' or 'reference': the implementation this call runs."""
        if self.kernel_applies(*args, **kwargs):
            return "cuda"
        if self.cpu is not None and self._cpu_applies(*args, **kwargs):
            return "cpu"
        return "reference"

    def __call__(self, *args, **kwargs):
        # path(), written out: this runs for every fused op of every step
        if (self.cuda is not None and _cuda.use_kernels(args[0])
                and self._cuda_applies(*args, **kwargs)):
            return self.cuda(*args, **kwargs)
        if self.cpu is not None and self._cpu_applies(*args, **kwargs):
            return self.cpu(*args, **kwargs)
        return self.reference(*args, **kwargs)

    def __repr__(self):
        have = [p for p in PATHS if getattr(self, p) is not None]
        return f"Op({self.name}: {', '.join(have)})"
