"""Pure invertible transforms on arrays.

Every module exposes `forward(params, x) -> (y, log_det)` and
`inverse(params, y) -> (x, log_det)` (parameter-free ones drop `params`), with images
of shape (..., height, width, channels) and log-dets of the batch shape. Inputs and
parameters are float32 or float64 (log-dets in the input's dtype); integer and
half-precision (float16, bfloat16) ones raise a ValueError at trace time asking for a
float32 cast, as do `init(..., dtype=...)` calls with those dtypes. Five modules are
building blocks rather than transforms: `block` (`Block`, an op given as its two
functions), `conv_net` (the coupling network) with `gemm_conv` (its convolutions as
matrix products on the CPU), `inverse_result` (`InverseResult`,
what every inverse that reports on itself returns: `cinc.solve`, `emerging.solve`,
`mint.solve`) and `small_linalg` (inverse and log|det| of batches of small matrices
without LAPACK).
"""

from jinvnet.ops import (
    actnorm,
    additive_coupling,
    affine_coupling,
    block,
    checkerboard,
    cinc,
    conditional_coupling,
    conv1x1,
    conv1x1_lu,
    conv_net,
    coupling,
    emerging,
    fft_conv,
    gemm_conv,
    iavgpool,
    inverse_result,
    irevnet,
    logit,
    mint,
    permute,
    quad_coupling,
    reversible_stack,
    revnet,
    small_linalg,
    sneaky_relu,
    split_prior,
    squeeze,
)

__all__ = [
    "actnorm",
    "additive_coupling",
    "affine_coupling",
    "block",
    "checkerboard",
    "cinc",
    "conditional_coupling",
    "conv1x1",
    "conv1x1_lu",
    "conv_net",
    "coupling",
    "emerging",
    "fft_conv",
    "gemm_conv",
    "iavgpool",
    "inverse_result",
    "irevnet",
    "logit",
    "mint",
    "permute",
    "quad_coupling",
    "reversible_stack",
    "revnet",
    "small_linalg",
    "sneaky_relu",
    "split_prior",
    "squeeze",
]
