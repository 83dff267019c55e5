"""Partial pooling: parameters alike share a prior whose spread the fit learns from them.

Twenty-four months say little about each state's inflow trend on its own, and a fit that gives
each trend its own rough prior (0 ± 0.15 a year) over-reads the noise: the trends that come
out large are mostly noise, and a forecast that believes them is over-confident exactly where
it sounds surest. Trends of one municipality's states are alike, so they share a prior
θ_i ~ N(m_i, τ²) whose spread τ is learnt from them, with a half-normal prior on τ of the
given scale (hierarchical normal model; empirical Bayes shrinkage with τ's uncertainty kept).

Around the least-squares fit θ̂ the data's log-likelihood is the Gaussian −½ δᵀΛδ + ηᵀδ in
δ = θ − θ̂ (`sim.fitting.error_model.effective_likelihood`). Given τ, the pool's prior is normal
too, so the posterior of δ is N(K⁻¹h, K⁻¹) with K = Λ + T + P and h = η + T c + P c (T the
pool's precisions 1/τ², P the other parameters' own prior precisions, c = m − θ̂ the prior
means), and the marginal likelihood of τ is, up to a constant,

    log p(data | τ) = −½ log det K + ½ hᵀK⁻¹h − ½ cᵀTc − n log τ.

τ is integrated on a log grid (one axis per pool), and the posterior of θ is reported by the
mixture's mean and covariance.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

GRID = {1: 120, 2: 50, 3: 24}
"""Grid points on each pool's τ axis, by the number of pools (the grid is their product)."""
GRID_RANGE = (1e-5, 6.0)
"""The τ grid's ends as multiples of the hyperprior's scale (a half-normal has 1e-9 of its mass
beyond 6 scales, and below 1e-5 of it about 1e-5)."""
CHUNK = 1024
"""Grid points solved at once (memory: CHUNK × k² numbers)."""


@dataclass(frozen=True)
class Pool:
    """A pool: its members' indices and τ's prior scale."""

    name: str
    members: np.ndarray
    scale: float


@dataclass(frozen=True)
class Spread:
    """The posterior of a pool's τ on the grid."""

    name: str
    scale: float
    mean: float
    sd: float
    q05: float
    q50: float
    q95: float


@dataclass(frozen=True)
class Pooled:
    """The posterior of δ = θ − θ̂: the mixture over τ's mean and covariance, and each pool's τ."""

    shift: np.ndarray
    covariance: np.ndarray
    spreads: tuple[Spread, ...]


def pooled_posterior(lam: np.ndarray, eta: np.ndarray, precision: np.ndarray, centres: np.ndarray,
                     pools: list[Pool]) -> Pooled:
    """The posterior of δ under the pools' shared priors (see the module docstring).

    `lam` [k, k] and `eta` [k] give the log-likelihood −½ δᵀΛδ + ηᵀδ; `precision` and `centres`
    [k] the parameters' own normal priors (precision 0: none; a pool member's is ignored)."""
    k = len(eta)
    if not pools:
        raise ValueError("no pool to integrate")
    own = precision.astype(float).copy()
    for pool in pools:
        own[pool.members] = 0.0
    base_h = eta + own * centres
    ends = np.log(np.array(GRID_RANGE))
    axes = [pool.scale * np.exp(np.linspace(ends[0], ends[1], GRID[len(pools)])) for pool in pools]
    taus = np.array(list(itertools.product(*axes)))  # [point, pool]
    # log of τ's prior density times τ (the log grid's Jacobian), and the pools' normalisers τ^−n.
    log_w = np.zeros(len(taus))
    t_diag = np.tile(own, (len(taus), 1))
    h = np.tile(base_h, (len(taus), 1))
    for j, pool in enumerate(pools):
        tau = taus[:, j]
        log_w += -0.5 * (tau / pool.scale) ** 2 + np.log(tau) - len(pool.members) * np.log(tau)
        inv = 1.0 / tau**2
        t_diag[:, pool.members] += inv[:, None]
        c = centres[pool.members]
        h[:, pool.members] += inv[:, None] * c[None, :]
        log_w += -0.5 * inv * float(c @ c)
    means = np.empty((len(taus), k))
    covs = np.empty((len(taus), k, k))
    for lo in range(0, len(taus), CHUNK):
        sl = slice(lo, lo + CHUNK)
        kk = np.broadcast_to(lam, (len(t_diag[sl]), k, k)).copy()
        kk[:, np.arange(k), np.arange(k)] += t_diag[sl]
        sign, logdet = np.linalg.slogdet(kk)
        if np.any(sign <= 0):
            raise ValueError("the pooled posterior's precision is not positive definite")
        covs[sl] = np.linalg.inv(kk)
        means[sl] = np.einsum("pij,pj->pi", covs[sl], h[sl])
        log_w[sl] += -0.5 * logdet + 0.5 * np.einsum("pi,pi->p", h[sl], means[sl])
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    shift = w @ means
    spread_of_means = np.einsum("p,pi,pj->ij", w, means - shift, means - shift)
    covariance = np.einsum("p,pij->ij", w, covs) + spread_of_means
    grid = w.reshape([len(a) for a in axes])  # itertools.product's order: the last axis fastest
    spreads = tuple(_spread(pool, axes[j], grid.sum(axis=tuple(i for i in range(len(axes)) if i != j)))
                    for j, pool in enumerate(pools))
    return Pooled(shift, (covariance + covariance.T) / 2, spreads)


def _spread(pool: Pool, values: np.ndarray, marginal: np.ndarray) -> Spread:
    """τ's posterior mean, sd and quantiles from its grid `values` and their weights."""
    cdf = np.cumsum(marginal)
    mean = float(marginal @ values)

    def q(p: float) -> float:
        return float(values[min(int(np.searchsorted(cdf, p)), len(values) - 1)])

    return Spread(pool.name, pool.scale, mean, float(np.sqrt(max(marginal @ values**2 - mean**2, 0.0))),
                  q(0.05), q(0.5), q(0.95))
