"""One command for a lent accelerator: the benchmarks built for one, in short forms.

Runs, one after the other, each into <output_dir>/<section>/:

- sampling_time: seed 001 Table 4 at the seed's width (CIFAR-10 L3 D32, conditioner
  width 512, 100 samples), Glow and CInC, each with its default ("fast") inverse
  (all four models took 254 s of a 12.8-minute run on an H200);
- cinc_inverse: every CInC inverse method (the sequential scan, rows, wavefront and
  the FFT inverse filter) on the CIFAR-10 and ImageNet64 layer shapes, batch 100
  and 1 (timing only);
- fft_conv_runtime: seed 000 Fig. 2, the FFT convolution against the dense route;
- train_throughput: images per second of a training step, L3 D8, width 128,
  batch 64 (issue 16's comparison shape), Glow and CInC;
- mintnet_inversion: Algorithm 1 next to its Anderson acceleration on a briefly
  trained MintNet.

A section that raises is recorded with its error and the others still run; a
section whose results are on disk is skipped, so a run cut short by a time limit
completes on the next call. Writes <output_dir>/results.json (device, versions,
per section its wall time and rows) and results.md (each benchmark's own tables).
Sized for at most 8 minutes on one GPU; --smoke runs the same path with each
benchmark's tiny settings (seconds on a CPU; the CI test).

    python -m experiments.accelerator_check.main --output_dir runs/accelerator_check
    python -m experiments.accelerator_check.main --smoke --output_dir /tmp/acc
"""

import argparse
import json
import os
import platform
import time
import traceback
from typing import Callable

import jax
import ml_collections

from experiments.cinc_inverse import benchmark as cinc_inverse
from experiments.cinc_inverse.configs import default as cinc_default
from experiments.cinc_inverse.configs import quick as cinc_quick
from experiments.fft_conv_runtime import benchmark as fft_conv_runtime
from experiments.fft_conv_runtime.configs import default as fft_default
from experiments.fft_conv_runtime.configs import quick as fft_quick
from experiments.mintnet_inversion import main as mintnet_inversion
from experiments.mintnet_inversion.configs import default as mint_default
from experiments.mintnet_inversion.configs import smoke as mint_smoke
from experiments.sampling_time import benchmark as sampling_time
from experiments.sampling_time.configs import default as sampling_default
from experiments.sampling_time.configs import quick as sampling_quick
from experiments.train_throughput import benchmark as train_throughput
from experiments.train_throughput.configs import default as throughput_default
from experiments.train_throughput.configs import quick as throughput_quick


def sampling_config(smoke: bool) -> ml_collections.ConfigDict:
    """CIFAR-10 L3 D32 at width 512, 100 samples in one batch, two repeats."""
    if smoke:
        return sampling_quick.get_config()
    config = sampling_default.get_config()
    config.shape_names = ("cifar10",)
    config.models = ("glow", "cinc")  # the pair issue 16's goal compares
    config.hidden_channels = 512
    config.methods = ("fast",)
    config.repeats = 2
    return config


def cinc_config(smoke: bool) -> ml_collections.ConfigDict:
    """Every method, batch 100 and 1, the default layer shapes, 5 rounds."""
    if smoke:
        return cinc_quick.get_config()
    config = cinc_default.get_config()
    config.repeats = 5
    return config


def fft_config(smoke: bool) -> ml_collections.ConfigDict:
    """Seed 000's sweep with 10 rounds instead of 50."""
    if smoke:
        return fft_quick.get_config()
    config = fft_default.get_config()
    config.repeats = 10
    return config


def throughput_config(smoke: bool) -> ml_collections.ConfigDict:
    """L3 D8, width 128, batch 64, 5 timed steps per model."""
    if smoke:
        return throughput_quick.get_config()
    config = throughput_default.get_config()
    config.models = ("glow", "cinc")
    config.steps_per_level = 8
    config.hidden_channels = 128
    config.steps = 5
    return config


def mint_config(smoke: bool) -> ml_collections.ConfigDict:
    """The default model and training; alpha 1 only, memories 1, 3 and 8."""
    if smoke:
        return mint_smoke.get_config()
    config = mint_default.get_config()
    config.alphas = (1.0,)
    config.num_steps = (5, 10, 15, 20, 30)
    config.anderson_memories = (1, 3, 8)
    config.acceleration_steps = (5, 8, 10, 12, 15, 20)
    return config


def _cinc(config, output_dir):
    rows = cinc_inverse.time_inverses(config)
    return {"rows": rows, "table": cinc_inverse.table(rows)}


def _sampling(config, output_dir):
    rows = sampling_time.run(config, output_dir)
    return {"rows": rows, "table": sampling_time.table(rows)}


def _fft(config, output_dir):
    rows = fft_conv_runtime.run(config, output_dir)
    return {"rows": rows, "table": fft_conv_runtime.table(rows)}


def _throughput(config, output_dir):
    rows = train_throughput.run(config, output_dir)
    return {"rows": rows, "table": train_throughput.table(rows)}


def _mint(config, output_dir):
    results = mintnet_inversion.run(config, output_dir)
    with open(os.path.join(output_dir, "acceleration_table.md")) as f:
        table = f.read()
    return {"rows": results["acceleration_trained"], "table": table}


SECTIONS: dict[str, tuple[Callable, Callable]] = {
    "sampling_time": (sampling_config, _sampling),
    "cinc_inverse": (cinc_config, _cinc),
    "fft_conv_runtime": (fft_config, _fft),
    "train_throughput": (throughput_config, _throughput),
    "mintnet_inversion": (mint_config, _mint),
}


def run_section(name: str, output_dir: str, smoke: bool) -> dict:
    """Runs one section (or reads its saved result); an exception becomes `error`."""
    directory = os.path.join(output_dir, name)
    path = os.path.join(directory, "section.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    os.makedirs(directory, exist_ok=True)
    make_config, measure = SECTIONS[name]
    start = time.perf_counter()
    try:
        result = measure(make_config(smoke), directory)
    except Exception:  # noqa: BLE001  (recorded; the other sections still run)
        return {
            "wall_s": round(time.perf_counter() - start, 1),
            "error": traceback.format_exc(limit=5),
        }
    result["wall_s"] = round(time.perf_counter() - start, 1)
    with open(path, "w") as f:
        json.dump(result, f, indent=1, default=str)
    return result


def device() -> dict:
    """The backend, its devices and the versions that produced the numbers."""
    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "devices": [d.device_kind for d in devices],
        "jax": jax.__version__,
        "host": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
    }


def markdown(report: dict) -> str:
    """The device line, then per section its wall time and the benchmark's tables."""
    info = report["device"]
    lines = [
        f"device: {info['backend']} ({', '.join(sorted(set(info['devices'])))}), "
        f"jax {info['jax']}, host {info['host']}",
        "",
    ]
    for name, section in report["sections"].items():
        lines.append(f"## {name} ({section['wall_s']} s)")
        lines.append("")
        if "error" in section:
            lines.append("FAILED:\n\n```\n" + section["error"].rstrip() + "\n```")
        else:
            lines.append(section["table"].rstrip())
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--smoke", action="store_true", help="tiny settings (CPU)")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    args = parser.parse_args(argv)
    names = args.sections.split(",")
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    os.makedirs(args.output_dir, exist_ok=True)
    report = {"device": device(), "smoke": args.smoke, "sections": {}}
    for name in names:
        print(f"accelerator_check: {name} ...", flush=True)
        report["sections"][name] = run_section(name, args.output_dir, args.smoke)
        print(f"accelerator_check: {name} {report['sections'][name]['wall_s']} s")
    with open(os.path.join(args.output_dir, "results.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    text = markdown(report)
    with open(os.path.join(args.output_dir, "results.md"), "w") as f:
        f.write(text)
    print(text)
    return report


if __name__ == "__main__":
    main()
