"""Programmes (interventions): places, queues, referrals, uptake and hazard-ratio effects."""

from sim.features.programmes.outputs import ProgrammesOutputs
from sim.features.programmes.programme import KEY, MEASURES, ProgrammesPlan, compile_programmes

__all__ = ["KEY", "MEASURES", "ProgrammesOutputs", "ProgrammesPlan", "compile_programmes"]
