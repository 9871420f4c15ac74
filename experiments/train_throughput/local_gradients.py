"""The trainer's global-view step against one that averages gradients once (issue 16).

With several devices, `train.make_train_step` is one SPMD program over the data
mesh; XLA's partitioner all-reduces the stacked parameters' gradients inside the
scanned backward loop. The alternative here computes each device's gradient of its
local mean loss under `jax.shard_map` and averages once, `lax.pmean`, after the
backward pass; the Adam update is the same. Both run on the same state and batch:
the script prints the largest difference of their gradients (relative to the
largest gradient entry) and their step times in interleaved rounds (medians), for
Glow L3 K8 at the peer's shape (width 128, batch 64, CIFAR-10-shaped noise), on one
CPU device per core.

    python -m experiments.train_throughput.local_gradients
    python -m experiments.train_throughput.local_gradients --base split_prior

The objective draws no noise here (uniform dequantisation is done by the data),
so the two steps compute the same numbers up to float rounding.
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import PartitionSpec

from experiments._timing import interleaved
from experiments.train_throughput.benchmark import base_options, setup
from jinvnet.models import multiscale
from jinvnet.train import make_train_step, parallel
from jinvnet.train.parallel import batch_sharded, replicate, replicated
from jinvnet.train.step import mean_loss


def local_gradients(model, objective, mesh):
    """(params, constants, batch, rng) -> (mean-loss gradient, per-example terms).

    Each device differentiates the mean loss of its part of the batch; one
    `lax.pmean` over the mesh then gives the gradient of the global mean loss.
    """
    axis = mesh.axis_names[0]
    whole, split = PartitionSpec(), PartitionSpec(axis)

    def gradients(params, constants, batch, rng):
        loss_fn = mean_loss(model, objective, constants, batch, rng)
        (_, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        return jax.lax.pmean(grads, axis), terms

    return jax.shard_map(
        gradients,
        mesh=mesh,
        in_specs=(whole, whole, split, whole),
        out_specs=(whole, split),
        check_vma=False,
    )


def local_gradient_step(model, objective, optimizer, mesh):
    """A jitted step whose gradient is averaged over the mesh once, after backprop."""
    local = local_gradients(model, objective, mesh)

    def step(state, batch):
        rng, step_rng = jax.random.split(state.rng)
        grads, terms = local(state.params, state.constants, batch, step_rng)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        new_state = state.replace(
            step=state.step + 1,
            params=optax.apply_updates(state.params, updates),
            opt_state=opt_state,
            rng=rng,
        )
        metrics = {key: jnp.mean(value) for key, value in terms.items()}
        return new_state, metrics

    return jax.jit(
        step,
        in_shardings=(replicated(mesh), batch_sharded(mesh)),
        out_shardings=(replicated(mesh), replicated(mesh)),
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="learned", help="benchmark.BASES name")
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--steps_per_level", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args(argv)
    parallel.default_cpu_devices([args.batch])
    flow = multiscale.glow(
        num_levels=args.levels,
        steps_per_level=args.steps_per_level,
        hidden_channels=args.hidden,
        **base_options(args.base),
    )
    shape = (args.batch, args.size, args.size, 3)
    model, objective, optimizer, mesh, state, sharded = setup(flow, shape, seed=0)
    state = replicate(state, mesh)
    # The gradients themselves (Adam's step would hide a wrong scale).
    loss_fn = mean_loss(model, objective, state.constants, sharded, state.rng)
    reference = jax.jit(jax.grad(lambda p: loss_fn(p)[0]))(state.params)
    local = jax.jit(local_gradients(model, objective, mesh))
    grads, _ = local(state.params, state.constants, sharded, state.rng)
    pairs = zip(jax.tree_util.tree_leaves(reference), jax.tree_util.tree_leaves(grads))
    scale = max(
        float(jnp.max(jnp.abs(r))) for r in jax.tree_util.tree_leaves(reference)
    )
    difference = max(float(jnp.max(jnp.abs(r - g))) for r, g in pairs) / scale
    trainer = make_train_step(model, objective, optimizer, mesh)
    steps = {
        "global view (the trainer's)": trainer,
        "local gradients, one pmean": local_gradient_step(
            model, objective, optimizer, mesh
        ),
    }
    seconds, _ = interleaved(
        {name: lambda step=step: step(state, sharded) for name, step in steps.items()},
        repeats=args.repeats,
    )
    medians = {name: float(np.median(s)) for name, s in seconds.items()}
    devices = jax.device_count()
    print(f"{devices} devices; gradients differ by {difference:.1e} of the largest")
    print("| step | ms (median) |")
    print("|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {1e3 * value:.0f} |")
    return {
        "devices": devices,
        "gradient_difference": difference,
        "median_s": medians,
    }


if __name__ == "__main__":
    main()
