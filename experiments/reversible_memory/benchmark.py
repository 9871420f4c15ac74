"""Activation memory and time of a training step vs depth, standard vs memory-saving.

Both paths train the same `models.IRevNetClassifier` (one stage of `depth`
reversible blocks after a squeeze, mean-pooled linear head, cross-entropy, Adam) and
differ only in `memory_saving`. Memory is XLA's compiled memory analysis of the
jitted step (`temp_size_in_bytes`: buffers live inside the step, i.e. activations
and their gradients, excluding parameters, optimizer state and outputs); time is
the median wall time of `repeats` steps after compilation, measured side by side.
"""

import json
import os
import statistics
import time

import jax
import matplotlib
import ml_collections
import optax

from jinvnet import diagnostics, models

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _model(config: ml_collections.ConfigDict, depth: int, memory_saving: bool):
    features = models.IRevNet(
        blocks_per_stage=(depth,),
        hidden_channels=config.hidden_channels,
        block=config.block,
        memory_saving=memory_saving,
    )
    return models.IRevNetClassifier(config.num_classes, features)


def _train_step(model, optimizer):
    def loss_fn(variables, x, labels):
        logits = model.apply(variables, x).logits
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    def step(variables, opt_state, x, labels):
        loss, grads = jax.value_and_grad(loss_fn)(variables, x, labels)
        updates, opt_state = optimizer.update(grads, opt_state, variables)
        return optax.apply_updates(variables, updates), opt_state, loss, grads

    return step


def _measure(config, depth, memory_saving, variables, x, labels):
    model = _model(config, depth, memory_saving)
    optimizer = optax.adam(1e-3)
    opt_state = optimizer.init(variables)
    step = jax.jit(_train_step(model, optimizer))
    start = time.perf_counter()
    compiled = step.lower(variables, opt_state, x, labels).compile()
    compile_s = time.perf_counter() - start
    memory = compiled.memory_analysis()
    outputs = compiled(variables, opt_state, x, labels)
    jax.block_until_ready(outputs)
    times = []
    for _ in range(config.repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(variables, opt_state, x, labels))
        times.append(time.perf_counter() - start)
    return {
        "temp_bytes": int(memory.temp_size_in_bytes),
        "argument_bytes": int(memory.argument_size_in_bytes),
        "step_s": statistics.median(times),
        "compile_s": compile_s,
        "loss": float(outputs[2]),
    }, outputs[3]


def run(config: ml_collections.ConfigDict, output_dir: str) -> list[dict]:
    """Measures every depth with both paths; writes results.json and memory.png."""
    os.makedirs(output_dir, exist_ok=True)
    key = jax.random.PRNGKey(config.seed)
    k_x, k_labels, k_init = jax.random.split(key, 3)
    shape = (config.batch, config.image_size, config.image_size, config.image_channels)
    x = jax.random.normal(k_x, shape)
    labels = jax.random.randint(k_labels, (config.batch,), 0, config.num_classes)
    rows = []
    for depth in config.depths:
        variables = _model(config, depth, False).init(k_init, x)
        # Trained-like weights: the zero-initialised output layers would make every
        # block the identity.
        variables = jax.tree_util.tree_map(
            lambda leaf: (
                leaf + 0.02 * jax.random.normal(k_init, leaf.shape, leaf.dtype)
            ),
            variables,
        )
        standard, standard_grads = _measure(config, depth, False, variables, x, labels)
        saving, saving_grads = _measure(config, depth, True, variables, x, labels)
        rows.append(
            {
                "depth": depth,
                "standard_temp_mib": standard["temp_bytes"] / 2**20,
                "saving_temp_mib": saving["temp_bytes"] / 2**20,
                "memory_ratio": standard["temp_bytes"] / max(saving["temp_bytes"], 1),
                "params_mib": standard["argument_bytes"] / 2**20,
                "standard_step_s": standard["step_s"],
                "saving_step_s": saving["step_s"],
                "time_ratio": saving["step_s"] / standard["step_s"],
                "gradient_angle_deg": float(
                    diagnostics.gradient_angle(saving_grads, standard_grads)
                ),
            }
        )
    with open(os.path.join(output_dir, "results.json"), "w") as f:
        json.dump(
            {"config": config.to_dict(), "device": str(jax.devices()[0]), "rows": rows},
            f,
            indent=2,
        )
    _plot(rows, os.path.join(output_dir, "memory.png"))
    return rows


def _plot(rows: list[dict], path: str) -> None:
    depths = [row["depth"] for row in rows]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    panels = (
        (
            "temp_mib",
            "activation memory (MiB, XLA temp)",
            "Activation memory of a training step",
        ),
        ("step_s", "step time (s)", "Training step time"),
    )
    for ax, (metric, ylabel, title) in zip(axes, panels):
        for path_name, marker, label in (
            ("standard", "o-", "standard backprop"),
            ("saving", "s-", "memory-saving"),
        ):
            values = [r[f"{path_name}_{metric}"] for r in rows]
            ax.plot(depths, values, marker, label=label)
        ax.set(
            xlabel="reversible blocks",
            ylabel=ylabel,
            xscale="log",
            yscale="log",
            title=title,
        )
        ax.set_xticks(depths, [str(d) for d in depths])
        ax.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def table(rows: list[dict]) -> str:
    """A markdown table of the sweep."""
    lines = [
        "| blocks | standard temp (MiB) | memory-saving temp (MiB) | standard / saving "
        "| params (MiB) | standard step (s) | saving step (s) | saving / standard time "
        "| gradient angle (deg) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['depth']} | {r['standard_temp_mib']:.2f} "
            f"| {r['saving_temp_mib']:.2f} "
            f"| {r['memory_ratio']:.1f}x | {r['params_mib']:.2f} "
            f"| {r['standard_step_s']:.3f} | {r['saving_step_s']:.3f} "
            f"| {r['time_ratio']:.2f}x | {r['gradient_angle_deg']:.2e} |"
        )
    return "\n".join(lines)
