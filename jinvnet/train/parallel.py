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
