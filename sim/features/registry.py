"""The features, registered by scenario block: what each needs, how it compiles, what it outputs.

The kernel runs whatever `Model.features` holds through its protocol; this registry is the one
place that knows which features exist. A feature is active when its block is in the scenario or
an active feature requires it; requirements are opened first (registry order), so a feature can
ask the replication for another by key (`Run.feature`), never through a field of the citizen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from sim.contract.schema import Scenario
from sim.features.caseworkers import TeamsOutputs, compile_teams
from sim.features.dagpenge import compile_dagpenge
from sim.features.economics import EconomicsOutputs, compile_economics
from sim.features.outputs import FeatureOutputs
from sim.features.payment import PaymentOutputs, compile_payment, has_employer_period
from sim.features.pilot import prepare_support
from sim.features.programmes import ProgrammesOutputs, compile_programmes
from sim.features.rules import compile_rules_feature, moves_clocks
from sim.features.support import SupportPlan, compile_rules
from sim.kernel.model import Model
from sim.kernel.model import compile_model as compile_kernel
from sim.kernel.protocol import FeaturePlan


@dataclass(frozen=True)
class FeatureKind:
    """One registered feature."""

    key: str
    """Its scenario block (or, for one no block names, the name others require it by)."""
    present: Callable[[Scenario], bool]
    """Whether the scenario asks for it itself."""
    compile: Callable[[Scenario, Model], FeaturePlan]
    requires: tuple[str, ...] = ()
    prepare: Callable[[Model, FeaturePlan, int], FeaturePlan] | None = None
    """A once-per-batch step that needs the compiled model and the batch seed (e.g. a pilot run)."""
    carry: Callable[[FeaturePlan, FeaturePlan], FeaturePlan] | None = None
    """Give a freshly compiled plan the preparation of the batch's prepared one (a replication
    that draws its own parameters keeps the batch's pilot)."""
    outputs: FeatureOutputs = dataclasses.field(default_factory=FeatureOutputs)


def _compile_support(scenario: Scenario, model: Model) -> FeaturePlan:
    return SupportPlan(compile_rules(scenario), model.n_benefit)


def _prepare_support(model: Model, plan: FeaturePlan, seed: int) -> FeaturePlan:
    assert isinstance(plan, SupportPlan)
    return prepare_support(model, plan, seed)


def _carry_support(plan: FeaturePlan, prepared: FeaturePlan) -> FeaturePlan:
    assert isinstance(plan, SupportPlan) and isinstance(prepared, SupportPlan)
    return plan.with_history(prepared.entry_history) if prepared.entry_history is not None else plan


def _compile_economics(scenario: Scenario, model: Model) -> FeaturePlan:
    plan = compile_economics(scenario, model.calendar)
    assert plan is not None
    return plan


REGISTRY: tuple[FeatureKind, ...] = (
    FeatureKind("support", lambda s: False, _compile_support, prepare=_prepare_support, carry=_carry_support),
    FeatureKind("economics", lambda s: s.economics is not None, _compile_economics, ("support",),
                outputs=EconomicsOutputs()),
    FeatureKind("payment", has_employer_period, compile_payment, outputs=PaymentOutputs()),
    FeatureKind("dagpenge_period", lambda s: s.dagpenge_period is not None, compile_dagpenge),
    FeatureKind("rules", moves_clocks, compile_rules_feature),
    FeatureKind("interventions", lambda s: bool(s.interventions), lambda s, m: compile_programmes(s),
                outputs=ProgrammesOutputs()),
    FeatureKind("caseworkers", lambda s: bool(s.caseworkers), lambda s, m: compile_teams(s), ("support",),
                outputs=TeamsOutputs()),
)
"""Every feature, in the order they are opened (each after what it requires)."""


def active(scenario: Scenario) -> tuple[FeatureKind, ...]:
    """The scenario's features and everything they require, in registry order."""
    wanted = {k.key for k in REGISTRY if k.present(scenario)}
    by_key = {k.key: k for k in REGISTRY}
    todo = list(wanted)
    while todo:
        for need in by_key[todo.pop()].requires:
            if need not in wanted:
                wanted.add(need)
                todo.append(need)
    return tuple(k for k in REGISTRY if k.key in wanted)


def kinds_of(model: Model) -> tuple[FeatureKind, ...]:
    """The registered kinds of the model's compiled features, in order."""
    by_key = {k.key: k for k in REGISTRY}
    return tuple(by_key[f.key] for f in model.features)


def compile_model(scenario: Scenario) -> Model:
    """The kernel's model of the scenario with its features compiled (no preparation run)."""
    model = compile_kernel(scenario)
    return dataclasses.replace(model, features=tuple(k.compile(scenario, model) for k in active(scenario)))


def prepare(model: Model, seed: int) -> Model:
    """Run each feature's once-per-batch preparation (the support pilot)."""
    plans = tuple(k.prepare(model, plan, seed) if k.prepare is not None else plan
                  for k, plan in zip(kinds_of(model), model.features, strict=True))
    return dataclasses.replace(model, features=plans)


def prepare_model(scenario: Scenario, seed: int) -> Model:
    """Compile the scenario with its features and run their preparation steps."""
    return prepare(compile_model(scenario), seed)


def carry_preparation(model: Model, prepared: Model) -> Model:
    """`model` (compiled from a variant of `prepared`'s scenario) with `prepared`'s preparation."""
    done = {f.key: f for f in prepared.features}
    plans = tuple(k.carry(plan, done[plan.key]) if k.carry is not None and plan.key in done else plan
                  for k, plan in zip(kinds_of(model), model.features, strict=True))
    return dataclasses.replace(model, features=plans)
