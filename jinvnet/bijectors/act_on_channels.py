"""Applies a bijector to the leading channels of an image and passes the rest."""

import distrax
import jax
import jax.numpy as jnp

from jinvnet import _validation


class ActOnChannels(distrax.Bijector):
    """Applies `inner` to the first k channels; the others pass through unchanged.

    With x = [x_a, x_b], x_a = x[..., :k] and x_b = x[..., k:]:

        forward:  y = [f(x_a), x_b],         log|det dy/dx| = log|det df/dx_a|
        inverse:  x = [f^{-1}(y_a), y_b],    log|det dx/dy| = log|det df^{-1}/dy_a|

    In a multi-scale flow the later levels act on the half kept by the split
    (`jinvnet.models.MultiScaleFlow`); the factored-out half rides along, so the whole
    flow stays one shape-preserving bijector. `inner` must map (..., h, w, k) to the
    same shape; it may itself change layout inside (squeeze, then unsqueeze).

    Args:
      inner: a bijector on images (event_ndims_in = 3) that preserves shapes.
      channels: k, the number of leading channels `inner` acts on.

    Raises:
      ValueError: if k is not a positive integer or `inner` is not an image bijector.

    Examples:
      >>> import distrax, jax.numpy as jnp
      >>> inner = distrax.Block(distrax.ScalarAffine(shift=1.0, scale=2.0), 3)
      >>> bij = ActOnChannels(inner, channels=1)
      >>> y, log_det = bij.forward_and_log_det(jnp.zeros((1, 2, 2, 3)))
      >>> y[0, 0, 0].tolist(), round(float(log_det[0]), 4)
      ([1.0, 0.0, 0.0], 2.7726)
    """

    keeps_shape = True  # `_join` refuses an inner bijector that changes it

    def __init__(self, inner: distrax.Bijector, channels: int):
        _validation.check_positive_int(channels, "ActOnChannels", "channels")
        if inner.event_ndims_in != 3 or inner.event_ndims_out != 3:
            raise ValueError(
                "ActOnChannels: `inner` must act on images (event_ndims_in == "
                f"event_ndims_out == 3), got {inner.event_ndims_in} and "
                f"{inner.event_ndims_out}"
            )
        super().__init__(
            event_ndims_in=3, is_constant_jacobian=inner.is_constant_jacobian
        )
        self.inner = inner
        self.channels = channels

    def _split(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        _validation.check_image(x, "ActOnChannels")
        if x.shape[-1] < self.channels:
            raise ValueError(
                f"ActOnChannels: the inner bijector acts on the first {self.channels} "
                f"channels, got input of shape {x.shape} with {x.shape[-1]} channels"
            )
        return x[..., : self.channels], x[..., self.channels :]

    def _join(self, out_a: jax.Array, x_a: jax.Array, x_b: jax.Array) -> jax.Array:
        if out_a.shape != x_a.shape:
            raise ValueError(
                f"ActOnChannels: the inner bijector must preserve shapes, it mapped "
                f"{x_a.shape} to {out_a.shape}; end it with the inverse of its reshapes"
            )
        return jnp.concatenate([out_a, x_b], axis=-1)

    def forward_and_log_det(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Computes y = [f(x_a), x_b] and log|det df/dx_a| (the batch shape of x)."""
        self._check_forward_input_shape(x)
        x_a, x_b = self._split(x)
        y_a, log_det = self.inner.forward_and_log_det(x_a)
        return self._join(y_a, x_a, x_b), log_det

    def inverse_and_log_det(self, y: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Computes x = [f^{-1}(y_a), y_b] and log|det df^{-1}/dy_a|."""
        self._check_inverse_input_shape(y)
        y_a, y_b = self._split(y)
        x_a, log_det = self.inner.inverse_and_log_det(y_a)
        return self._join(x_a, y_a, y_b), log_det
