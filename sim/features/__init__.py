"""Features composed on the kernel through its protocol, registered by scenario block."""

from sim.features.outputs import FeatureOutputs, ResolvedTarget
from sim.features.registry import (
    REGISTRY,
    FeatureKind,
    carry_preparation,
    compile_model,
    kinds_of,
    prepare,
    prepare_model,
)

__all__ = [
    "REGISTRY",
    "FeatureKind",
    "FeatureOutputs",
    "ResolvedTarget",
    "carry_preparation",
    "compile_model",
    "kinds_of",
    "prepare",
    "prepare_model",
]
