"""The peer: PyTorch normflows' multi-scale Glow on mnist5k with the main job's recipe.

Runs in its own virtualenv (torch and normflows are not jinvnet dependencies):

    python -m venv /tmp/peer && /tmp/peer/bin/pip install torch==2.13.0 normflows
    /tmp/peer/bin/python experiments/main_job/peer_normflows.py \
        --data split.npz --output result.json --seed 0

`side_by_side.py` writes split.npz (the 4,000 / 1,000 mnist5k split jinvnet trains
and tests on) and calls this. Same preprocessing and schedule as `mnist5k_cinc`:
uniform dequantisation x = (k + u) / 256, the logit transform
y = logit(alpha + (1 - 2 alpha) x) with alpha = 1e-6 and its log-det in the
bits/dim, Adam at 2e-3 with 100 linear warm-up steps and cosine decay to 0 over
1,800 steps, batch 64, gradient clipping at norm 50, an EMA of the parameters with
decay min(0.999, (1 + t) / (10 + t)) that is evaluated. Model: `nf.flows.GlowBlock`
(ActNorm, LU 1x1, affine coupling), 2 levels x 8 blocks, hidden 64, a learned
diagonal Gaussian per level. Test bits/dim over the 1,000 test digits with one fixed
dequantisation draw.
"""

import argparse
import copy
import json
import math
import time

import normflows as nf
import numpy as np
import torch


def build(
    levels: int, blocks: int, hidden: int, shape: tuple = (1, 28, 28)
) -> nf.MultiscaleFlow:
    """normflows' multi-scale Glow for (C, H, W) images (its README's recipe)."""
    q0, flows, merges = [], [], []
    for i in range(levels):
        width = shape[0] * 2 ** (levels + 1 - i)
        steps = [
            nf.flows.GlowBlock(width, hidden, split_mode="channel", scale=True)
            for _ in range(blocks)
        ]
        flows.append(steps + [nf.flows.Squeeze()])
        if i > 0:
            merges.append(nf.flows.Merge())
            latent = (
                shape[0] * 2 ** (levels - i),
                shape[1] // 2 ** (levels - i),
                shape[2] // 2 ** (levels - i),
            )
        else:
            latent = (
                shape[0] * 2 ** (levels + 1),
                shape[1] // 2**levels,
                shape[2] // 2**levels,
            )
        q0.append(nf.distributions.DiagGaussian(latent))
    return nf.MultiscaleFlow(q0, flows, merges, class_cond=False)


def logit(x: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """y = logit(alpha + (1 - 2 alpha) x) and log|dy/dx| summed per image."""
    p = alpha + (1 - 2 * alpha) * x
    y = torch.log(p) - torch.log1p(-p)
    log_det = math.log(1 - 2 * alpha) - torch.log(p) - torch.log1p(-p)
    return y, log_det.flatten(1).sum(1)


def bits_per_dim(model, pixels: torch.Tensor, noise: torch.Tensor, alpha: float):
    """Per-image bits/dim of 8-bit pixels (n, 1, 28, 28) under dequantisation noise."""
    x = (pixels + noise) / 256.0
    y, log_det = logit(x, alpha)
    log_p = model.log_prob(y, None) + log_det
    dims = pixels[0].numel()
    return -log_p / (dims * math.log(2.0)) + 8.0


def sample_pixels(model, num: int, temperature: float, alpha: float, seed: int):
    """`num` samples at `temperature` as 8-bit pixels (num, 28, 28, 1), and finiteness.

    Inverts the logit transform, x = (sigmoid(y) - alpha) / (1 - 2 alpha), and
    quantises as jinvnet does, k = clip(floor(256 x), 0, 255); a sample with any
    non-finite entry is flagged (its pixels are 0).
    """
    torch.manual_seed(seed)
    pixels, finite = [], []
    with torch.no_grad():
        for start in range(0, num, 256):
            y, _ = model.sample(min(256, num - start), temperature=temperature)
            ok = torch.isfinite(y).flatten(1).all(1)
            x = (torch.sigmoid(torch.nan_to_num(y)) - alpha) / (1 - 2 * alpha)
            k = torch.clamp(torch.floor(256 * x), 0, 255) * ok[:, None, None, None]
            pixels.append(k.permute(0, 2, 3, 1).to(torch.uint8).numpy())
            finite.append(ok.numpy())
    return np.concatenate(pixels), np.concatenate(finite)


def learning_rate(step: int, peak: float, warmup: int, total: int) -> float:
    """Linear warm-up to `peak`, then cosine decay to 0 at `total` (optax's shape)."""
    if step < warmup:
        return peak * step / warmup
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="npz with train_x, test_x")
    parser.add_argument("--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num_steps", type=int, default=1800)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--learning_rate", type=float, default=2e-3, help="Adam's peak (default 2e-3)"
    )
    parser.add_argument(
        "--samples", help="npz to write 1,024 samples per temperature to (8-bit)"
    )
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    alpha, peak, warmup, batch = 1e-6, args.learning_rate, 100, 64
    with np.load(args.data) as f:  # integer pixels, (n, 28, 28, 1)
        train = torch.tensor(f["train_x"], dtype=torch.float32).permute(0, 3, 1, 2)
        test = torch.tensor(f["test_x"], dtype=torch.float32).permute(0, 3, 1, 2)

    start = time.perf_counter()
    model = build(levels=2, blocks=8, hidden=64)
    with torch.no_grad():  # ActNorm's data-dependent initialisation, 256 images
        init = train[rng.choice(len(train), 256, replace=False)]
        bits_per_dim(model, init, torch.rand_like(init), alpha)
    params = sum(p.numel() for p in model.parameters())
    ema = copy.deepcopy(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=peak)
    order, position = rng.permutation(len(train)), 0
    for step in range(args.num_steps):
        if position + batch > len(train):
            order, position = rng.permutation(len(train)), 0
        x = train[order[position : position + batch]]
        position += batch
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, peak, warmup, args.num_steps)
        loss = bits_per_dim(model, x, torch.rand_like(x), alpha).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 50.0)
        optimizer.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for target, source in zip(
                ema.state_dict().values(), model.state_dict().values()
            ):
                if target.dtype.is_floating_point:
                    target.mul_(decay).add_(source, alpha=1 - decay)
                else:
                    target.copy_(source)
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"loss {loss.item()} at step {step + 1}")
    train_s = time.perf_counter() - start

    generator = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        noise = torch.rand(test.shape, generator=generator)
        test_bpd = torch.cat(
            [
                bits_per_dim(ema, test[i : i + 250], noise[i : i + 250], alpha)
                for i in range(0, len(test), 250)
            ]
        )
    result = {
        "peer": "normflows Glow (GlowBlock, 2 levels x 8 blocks, hidden 64)",
        "normflows": nf.__version__ if hasattr(nf, "__version__") else "unknown",
        "torch": torch.__version__,
        "seed": args.seed,
        "steps": args.num_steps,
        "learning_rate": peak,
        "params": params,
        "train_s": round(train_s, 1),
        "test_bits_per_dim": round(float(test_bpd.mean()), 4),
        "last_train_bits_per_dim": round(loss.item(), 4),
    }
    if args.samples:  # scored by side_by_side.py with jinvnet's digit classifier
        arrays = {}
        for temperature in (1.0, 0.7):
            pixels, finite = sample_pixels(ema, 1024, temperature, alpha, args.seed)
            arrays[f"pixels_T{temperature}"] = pixels
            arrays[f"finite_T{temperature}"] = finite
        np.savez_compressed(args.samples, **arrays)
        result["samples"] = args.samples
    with open(args.output, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
