"""XLA:CPU's convolution gradient inside a loop, against the GEMM form (issue 16).

A stack of D causal 3x3 convolutions h <- tanh(h + conv(h, K_d)) (CInC's
convolution, `ops._causal_conv.conv`), its gradient written out (D copies) and as
one `lax.scan`, each with XLA's convolution and with the GEMM form
(`ops.gemm_conv.looped`), timed side by side in interleaved rounds (medians).

    python -m experiments.train_throughput.conv_in_loop
"""

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from experiments._timing import interleaved
from jinvnet.ops import _causal_conv, gemm_conv


def gradient(depth: int, scan: bool, gemm: bool):
    """The jitted gradient of the stack's sum of squares, by parameters and input."""

    def conv(h, k):
        if not gemm:
            return _causal_conv.conv(k, h, (2, 2))
        with gemm_conv.looped():
            return _causal_conv.conv(k, h, (2, 2))

    def loss(kernels, x):
        if scan:
            h, _ = jax.lax.scan(
                lambda h, k: (jnp.tanh(h + conv(h, k)), None), x, kernels
            )
        else:
            h = x
            for d in range(depth):
                h = jnp.tanh(h + conv(h, kernels[d]))
        return jnp.sum(h**2)

    return jax.jit(jax.grad(loss, argnums=(0, 1)))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=8)
    parser.add_argument("--channels", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    shape = (args.batch, args.size, args.size, args.channels)
    x = jax.random.normal(jax.random.PRNGKey(0), shape)
    kernels = 0.1 * jax.random.normal(
        jax.random.PRNGKey(1), (args.depth, 3, 3, args.channels, args.channels)
    )
    fns, compile_s = {}, {}
    for scan in (False, True):
        for gemm in (False, True):
            name = f"{'scan' if scan else 'written out'}, {'GEMM' if gemm else 'XLA'}"
            fn = gradient(args.depth, scan, gemm)
            start = time.perf_counter()
            jax.block_until_ready(fn(kernels, x))
            compile_s[name] = time.perf_counter() - start
            fns[name] = lambda fn=fn: fn(kernels, x)
    seconds, _ = interleaved(fns, repeats=args.repeats)
    medians = {name: float(np.median(s)) for name, s in seconds.items()}
    reference = medians["written out, XLA"]
    print("| layout, convolution | gradient ms | / written out, XLA | first call s |")
    print("|---|---|---|---|")
    for name, value in medians.items():
        print(
            f"| {name} | {1e3 * value:.0f} | {value / reference:.2f} | "
            f"{compile_s[name]:.1f} |"
        )
    return {"median_s": medians, "first_call_s": compile_s}


if __name__ == "__main__":
    main()
