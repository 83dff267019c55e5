"""Economics: benefit DKK and the refusion staircase, costed from the support count."""

from sim.features.economics.costing import KEY, EconomicsModel, compile_economics, costs
from sim.features.economics.outputs import COST_COLUMNS, EconomicsOutputs

__all__ = ["COST_COLUMNS", "KEY", "EconomicsModel", "EconomicsOutputs", "compile_economics", "costs"]
