"""Fused GPU kernels, each beside the NumPy reference it must equal (llm.c's kernel lab).

One file per fused op. Each holds
    reference_forward / reference_backward (or reference_update)   the NumPy maths (written
        against `xp`, so it runs on CuPy arrays too);
    a CUDA source of template kernels (float and double), compiled with NVRTC on first use;
    forward / backward (or update)   the entry points, each a `_dispatch.Op`: the CUDA kernel
        for CuPy arrays it supports, the CPU kernel for plain NumPy arrays it covers, the NumPy
        maths otherwise (other dtypes, shapes no kernel covers, the kernels switched off).
        `op.kernel_applies(*args)` says whether a call runs the CUDA kernel and
        `op.path(*args)` which implementation runs ('cuda', 'cpu' or 'reference'); the
        choice is written once, in kernels/_dispatch.py, for every op.

    attention_softmax   softmax(scores + position_bias) over the keys; backward y (g - sum g y)
    rms_norm            T5's LayerNorm; forward saves 1/rms per row; backward dx and dweight
    cross_entropy       log-softmax + NLL with ignore_index; per-row loss and lse
    gated_gelu          gelu_new(a) * b, T5 v1.1's gated FFN
    adafactor_update    Adafactor's factored step (the kernels: a 2-D weight)

On a CPU the entry points run CPU kernels: attention_softmax, cross_entropy and rms_norm's
backward make the reference's NumPy calls on one cache-sized block of rows at a time
(kernels/_cpu.py), rms_norm's forward makes them in place in one temporary, and
embedding_backward (no CUDA kernel: a GPU uses cupyx.scatter_add) adds one column at a time.
Each equals its reference bit for bit (tests/kernels/test_cpu_kernels.py); only the traffic to
memory changes.

`minit5.functional`'s Functions (AttentionSoftmax, RMSNorm, CrossEntropy, GatedGelu) and
`minit5.optim.Adafactor` always call the entry points, on every device, so a CPU run and its
gradient checks go through the same saved state and backward as a GPU run. The kernels run for
CuPy arrays unless they are switched off (MINIT5_KERNELS=0 at import, or
`backend.configure(kernels=False)`): then CuPy runs the NumPy maths, which is how
`benchmarks/kernels_lab.py` and a suspicious user compare the two.

Precision
---------
- float32 is the default everywhere (parameters, activations, optimizer state); reductions in
  the kernels accumulate in the element type (float32 for float32), like the composed ops on a
  GPU. Expect kernel vs reference differences of a few float32 ulps (relative ~1e-6 to 1e-5),
  not bitwise equality: a block reduction adds in a different order than NumPy's pairwise sum,
  CuPy compiles every kernel with -ftz=true (float32 denormals flushed to zero), and the CUDA
  exp/tanh/log differ from glibc's in the last bit.
- float64 works end to end (`from_pretrained(..., dtype="float64", device="gpu")`): every kernel
  is instantiated for double too, and the gradient checks run in float64 on the GPU. It is
  slow on consumer GPUs (1/32 or 1/64 of the float32 rate) and fine on an H100/A100.
- TF32 matmuls (NVIDIA Ampere and newer) are off by default. CuPy switches cuBLAS to TF32 for
  float32 matmuls when the environment variable CUPY_TF32=1 is set: CuPy reads it the first time
  a float32 matmul picks its compute type (cupy._core._routines_linalg.get_compute_type) and
  keeps that choice for the process, so it must be set before the first float32 matmul; setting
  it before CuPy is imported is the safe rule. minit5 offers MINIT5_TF32=1, which
  minit5.backend turns into CUPY_TF32=1 just before it imports CuPy (an explicit CUPY_TF32 in
  the environment wins). TF32 keeps float32's range but rounds the matmul inputs to a 10-bit
  mantissa (relative ~5e-4 per product): logits then no longer match the golden references at
  1e-4, so the GPU golden test runs without it. Elementwise ops and these kernels are unaffected.
- Mixed precision (bfloat16 or float16 activations with float32 master weights) is not
  supported, by decision (issue 31), for four reasons. (1) NumPy has no bfloat16 type, so a
  bfloat16 kernel would have no CPU reference to be tested against and no CPU run to give the
  same results: the library's rule is one maths on every device, checked on a CPU. (2) T5
  overflows float16 (the FFN's `wo` output and the residual stream exceed its range), so
  float16 would need loss scaling and the clamping of hidden states that HF's T5 does in
  float16. (3) The kernels are instantiated for float and double only; instantiated
  for __half or __nv_bfloat16 most do not compile as written (`neg_inf` has no half-precision
  specialisation and the arithmetic operators are ambiguous between the float and half
  overloads), and every reduction would have to accumulate in float. (4) The lever mixed
  precision pulls hardest, tensor-core matmuls, is available without it: MINIT5_TF32=1 (above)
  runs float32 matmuls on the tensor cores and keeps float32 everywhere else. T5 was trained
  in bfloat16 and its weights load exactly into float32 (every bfloat16 value is a float32).
"""
from minit5.kernels import (
    adafactor_update,
    attention_softmax,
    cross_entropy,
    embedding_backward,
    gated_gelu,
    rms_norm,
)
from minit5.kernels._cuda import use_kernels
from minit5.kernels._dispatch import Op

KERNELS = {"attention_softmax": attention_softmax, "rms_norm": rms_norm,
           "cross_entropy": cross_entropy, "gated_gelu": gated_gelu,
           "adafactor_update": adafactor_update}

__all__ = ["use_kernels", "Op", "KERNELS", "attention_softmax", "rms_norm", "cross_entropy",
           "gated_gelu", "adafactor_update", "embedding_backward"]
