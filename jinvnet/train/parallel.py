"""Data parallelism: one jit-compiled program over a mesh that shards the batch.

The train state is replicated on every device and the global batch is split along
its first axis over the mesh axis "data"; XLA inserts the gradient all-reduce (the
`lax.pmean` of a pmap program). The same code runs on 1 CPU device, on N local
GPUs/TPU cores, and across hosts: call `jax.distributed.initialize()` first on
every host (it reads the coordinator from the cluster environment on TPU pods and
SLURM), then each host feeds its own slice of the global batch (`BatchIterator`
does this per `jax.process_index()`) and `shard_batch` assembles the global array.

Example (a doctest): on one CPU the mesh has one device.

    >>> import jax, numpy as np
    >>> mesh = data_mesh()
    >>> mesh.axis_names, mesh.devices.size == jax.device_count()
    (('data',), True)
    >>> tuple(replicated(mesh).spec), tuple(batch_sharded(mesh).spec)
    ((), ('data',))
    >>> params = replicate({"w": np.ones(3)}, mesh)
    >>> batch = shard_batch({"image": np.zeros((4, 2, 2, 1))}, mesh)
    >>> params["w"].sharding == replicated(mesh), batch["image"].shape
    (True, (4, 2, 2, 1))
"""

import logging
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def data_mesh(devices: list | None = None) -> Mesh:
    """A 1-D mesh over `devices` (default all devices of all hosts), axis "data"."""
    devices = jax.devices() if devices is None else devices
    return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """The sharding that puts a full copy on every device of `mesh`."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    """The sharding that splits the leading (batch) axis over the mesh."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicate(tree, mesh: Mesh):
    """Places an identical-on-every-host pytree on every device of `mesh`."""
    return jax.device_put(tree, replicated(mesh))


def shard_batch(local_batch: dict[str, np.ndarray], mesh: Mesh) -> dict[str, jax.Array]:
    """Assembles the global batch from every host's slice, split over the devices.

    Raises:
      ValueError: if the global batch is not divisible by the number of devices.
    """
    sharding = batch_sharded(mesh)
    num_devices = mesh.devices.size
    global_size = len(next(iter(local_batch.values()))) * jax.process_count()
    if global_size % num_devices:
        raise ValueError(
            f"global batch size {global_size} must be divisible by the number of "
            f"devices {num_devices}"
        )
    return {
        key: jax.make_array_from_process_local_data(sharding, np.asarray(value))
        for key, value in local_batch.items()
    }


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, else cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_device_count(batch_sizes: list[int], cores: int | None = None) -> int:
    """One CPU device per core, as many as divide every batch size.

    The largest n <= `cores` (default `usable_cores()`) that divides each of
    `batch_sizes`: a data-parallel step splits each batch evenly over the devices.

        >>> cpu_device_count([64, 500], cores=2), cpu_device_count([64], cores=6)
        (2, 4)
        >>> cpu_device_count([63], cores=2)
        1
        >>> cpu_device_count([64]) <= usable_cores()
        True
    """
    cores = usable_cores() if cores is None else cores
    if cores < 1 or any(size < 1 for size in batch_sizes):
        raise ValueError(
            f"cores and batch sizes must be positive, got {cores}, {batch_sizes}"
        )
    return max(
        n for n in range(1, cores + 1) if all(size % n == 0 for size in batch_sizes)
    )


def set_cpu_devices(count: int) -> None:
    """Makes JAX's CPU backend `count` devices; call it before any JAX operation.

    On a CPU, JAX makes one device by default, which runs a step's operations one
    after the other; with one device per core the data-parallel step runs each
    core on its share of the batch (docs/training.md, "CPU devices"). Accelerators
    are unaffected.

    Raises:
      ValueError: if `count` is not a positive integer.
      RuntimeError: if JAX has already run an operation with another count.

        >>> import jax
        >>> set_cpu_devices(len(jax.local_devices(backend="cpu")))  # as it is: fine
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(
            f"the CPU device count must be a positive integer, got {count!r}"
        )
    try:
        jax.config.update("jax_num_cpu_devices", count)
    except RuntimeError as error:  # JAX refuses once its backends exist
        have = len(jax.local_devices(backend="cpu"))
        if have == count:
            return
        raise RuntimeError(
            f"cannot make {count} CPU devices: JAX has already started with "
            f"{have}; set the count before the first JAX operation (or "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={count} before "
            "starting Python)"
        ) from error


def default_cpu_devices(batch_sizes: list[int]) -> None:
    """One CPU device per usable core, as many as divide `batch_sizes`, if it can.

    What the trainer's CLI does without --cpu_devices (`cpu_device_count`,
    `set_cpu_devices`), giving way to a count set in the environment (XLA_FLAGS'
    --xla_force_host_platform_device_count, JAX_NUM_CPU_DEVICES) and to a JAX that
    has already started, whose devices it keeps.

        >>> default_cpu_devices([64])  # JAX has started here: its devices stay
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" in flags or (
        "JAX_NUM_CPU_DEVICES" in os.environ
    ):
        return
    try:
        set_cpu_devices(cpu_device_count(batch_sizes))
    except RuntimeError as error:
        logging.getLogger(__name__).info("keeping JAX's CPU devices: %s", error)
