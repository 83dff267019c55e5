"""Caseworker teams: meetings due on a schedule, held within weekly hours, fokusmål."""

from sim.features.caseworkers.outputs import TeamsOutputs
from sim.features.caseworkers.team import KEY, MEASURES, TeamsPlan, compile_teams

__all__ = ["KEY", "MEASURES", "TeamsOutputs", "TeamsPlan", "compile_teams"]
