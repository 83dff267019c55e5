"""Features composed on the kernel: economics, programmes, caseworkers."""

from sim.features.pilot import prepare_model
from sim.kernel.model import compile_model

__all__ = ["compile_model", "prepare_model"]
