"""The one place where a pure op module becomes a `distrax.Bijector`."""

import functools
from types import ModuleType
from typing import Any

import distrax
import jax

from jinvnet import _validation
from jinvnet.ops.block import Block


class OpBijector(distrax.Bijector):
    """A distrax bijector on images (event_ndims_in = 3) backed by an op module.

    `op` is a module of `jinvnet.ops` with `forward(params, x)` and
    `inverse(params, y)` (or `forward(x)` / `inverse(y)` when `params` is None), or
    an `ops.block.Block` of the two functions: an op's variant with its options
    fixed (`cinc.with_method`, `affine_coupling.with_min_scale`, `mint.with_options`,
    `fft_conv.with_log_det_method`, ...), which also checks those options once.
    Subclasses only name their op and parameters; they add no math of their own.
    Half-precision parameters raise a ValueError here, and half-precision inputs in
    the op (`jinvnet._validation.check_dtype`).

    A subclass whose op maps every input to its own shape and dtype sets the class
    attribute `keeps_shape = True`, so `bijectors.forward_shape` answers without
    tracing it (the shared contract test checks the claim against `jax.eval_shape`).
    """

    keeps_shape: bool = False

    def __init__(
        self,
        op: ModuleType | Block,
        params: Any = None,
        *,
        is_constant_jacobian: bool = False,
    ):
        super().__init__(event_ndims_in=3, is_constant_jacobian=is_constant_jacobian)
        _validation.check_params(params, type(self).__name__)
        self.params = params
        if params is None:
            self._forward_fn, self._inverse_fn = op.forward, op.inverse
        else:
            self._forward_fn = functools.partial(op.forward, params)
            self._inverse_fn = functools.partial(op.inverse, params)

    def forward_and_log_det(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Computes y = f(x) and log|det J(f)(x)| (shape: the batch shape of x)."""
        self._check_forward_input_shape(x)
        return self._forward_fn(x)

    def inverse_and_log_det(self, y: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Computes x = f^{-1}(y) and log|det J(f^{-1})(y)|."""
        self._check_inverse_input_shape(y)
        return self._inverse_fn(y)
