"""Checks that span the scenario's blocks: every name resolves, clocks add up, targets fit the
horizon, the initial stock can be placed. The checks themselves live in `sim.contract.checks`."""

from __future__ import annotations

from sim.contract.checks.assumptions import check_assumptions
from sim.contract.checks.base import Checks
from sim.contract.checks.economics import check_dagpenge_period, check_economics
from sim.contract.checks.programmes import (
    check_age_shares,
    check_age_states,
    check_attributes,
    check_eligibility,
    check_intervention_ages,
    check_programmes_and_teams,
)
from sim.contract.checks.rules import check_rules
from sim.contract.checks.states import (
    check_inflow_growth,
    check_initial_duration_bands,
    check_origins,
    check_parameters,
    check_start,
    check_states,
)
from sim.contract.checks.targets import check_observed, check_targets
from sim.contract.checks.transitions import (
    check_initial_duration_clocks,
    check_initial_stock,
    check_transitions,
)
from sim.contract.messages import Gaps
from sim.contract.schema import Scenario
from sim.contract.yamlio import Path


def cross_check(s: Scenario, gaps: Gaps) -> list[tuple[Path, str]]:
    """Checks that span blocks: every name resolves, clocks add up, targets fit the horizon,
    the initial stock can be placed. `gaps` names what the schema refused, to be skipped."""
    c = Checks(s, gaps)
    check_parameters(c)
    check_start(c)
    check_states(c)
    check_origins(c)
    check_inflow_growth(c)
    check_initial_duration_bands(c)
    sound = check_transitions(c)
    check_initial_stock(c, sound)
    check_initial_duration_clocks(c, sound)
    check_economics(c)
    check_dagpenge_period(c)
    check_rules(c)
    check_intervention_ages(c)
    check_age_states(c)
    check_attributes(c)
    check_eligibility(c)
    check_age_shares(c)
    check_programmes_and_teams(c)
    check_targets(c)
    check_observed(c)
    check_assumptions(c, cross_check)
    return c.out
