"""The peer's training throughput: normflows' multi-scale Glow at our benchmark shape.

Runs in its own virtualenv (torch and normflows are not jinvnet dependencies), from
the repository root:

    python -m venv /tmp/peer && /tmp/peer/bin/pip install torch==2.13.0 normflows
    /tmp/peer/bin/python -m experiments.train_throughput.peer_normflows \
        --output peer.json --threads 2

`benchmark.py` calls this when `--peer_python` is given. Model: the Glow of
`experiments/main_job/peer_normflows.py` (`nf.flows.GlowBlock` = ActNorm, LU 1x1,
affine coupling; a learned diagonal Gaussian per level) for (3, 32, 32) images,
L levels x K blocks, conditioner width `hidden`. Batch of uniform noise, Adam.
Times, each the median of `steps` interleaved rounds after `warmup` untimed steps:
the forward pass (the loss, graph kept), forward + backward, and the whole step
(+ Adam update).
"""

import argparse
import json
import statistics
import time

import normflows as nf
import torch

from experiments.main_job.peer_normflows import build


def _median_seconds(fns: dict, rounds: int) -> dict:
    """Median seconds per call of each fn, in interleaved rounds (as ours are)."""
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def measure(args) -> dict:
    """Seconds per forward, forward + backward and full step; images per second."""
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = build(args.levels, args.blocks, args.hidden, shape=(3, 32, 32))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    batch = torch.rand(args.batch_size, 3, 32, 32) - 0.5

    def forward():
        return model.forward_kld(batch)

    def gradient():
        optimizer.zero_grad(set_to_none=True)
        forward().backward()

    def step():
        gradient()
        optimizer.step()

    for _ in range(args.warmup):  # ActNorm's data-dependent init, allocator warm-up
        step()
    seconds = _median_seconds(
        {"forward": forward, "gradient": gradient, "step": step}, args.steps
    )
    forward_s, gradient_s, step_s = (
        seconds[k] for k in ("forward", "gradient", "step")
    )
    loss = float(forward().detach())
    return {
        "model": f"normflows glow (peer, torch {torch.__version__})",
        "params": sum(p.numel() for p in model.parameters()),
        "forward_s": forward_s,
        "gradient_s": gradient_s,
        "step_s": step_s,
        "images_per_s": args.batch_size / step_s,
        "threads": args.threads,
        "normflows": nf.__version__,
        "loss_finite": bool(loss == loss and abs(loss) != float("inf")),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = measure(args)
    with open(args.output, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
