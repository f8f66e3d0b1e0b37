"""The bridging ranking: posts liked across the community's usual divides come first.

This is the method of X's Community Notes, run on one node over the community's signed data:
each signal (``node.core.engagement``) is modelled as

    signal(u, p) ≈ μ + i_u + i_p + f_u · f_p

with a one-dimensional factor. The factor f learns the community's main divide (members who
like the same posts get factors of the same sign, and so do the posts they like); whatever
appreciation the divide cannot explain lands in the post's intercept i_p, which is the post's
**bridging score**. The intercepts are regularised more strongly than the factors (λ_i > λ_f),
so the model prefers to explain a camp's applause by the factor, and a post only gains an
intercept when members on both sides like it.

The fit is weighted alternating least squares with numpy: a fixed start (the leading singular
vector of the weighted signals, its sign fixed), a fixed number of sweeps, each a closed-form
update. Nothing is random, so two nodes holding the same messages compute the same scores.

Limits: one factor finds one divide (the strongest); with a handful of members the factors are
noisy and the explanations a rough guide; members who never react are invisible to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from node.core.engagement import UNSEEN_WEIGHT, Matrix, Signals
from node.core.records import MIN_SUPPORTERS

BRIDGING = "appreciated by members who usually disagree"
ONE_GROUP = "mostly by one group"


@dataclass(frozen=True)
class Settings:
    """The factorisation's knobs (Community Notes' published values for the regularisation)."""

    intercept_lambda: float = 0.15
    factor_lambda: float = 0.03
    sweeps: int = 25
    unseen_weight: float = UNSEEN_WEIGHT
    #: A supporter is on one side of the divide when |f_u| exceeds this share of the largest |f_u|.
    side_margin: float = 0.2


@dataclass(frozen=True)
class Model:
    """The fitted parameters, in the order of the ``Signals`` they were fitted to."""

    mean: float
    member_intercepts: Matrix
    post_intercepts: Matrix
    member_factors: Matrix
    post_factors: Matrix


@dataclass(frozen=True)
class Ranked:
    """A post as the bridging ranking shows it, with why."""

    id: bytes
    score: float
    factor: float
    supporters: int
    explanation: str


def fit(signals: Signals, settings: Settings = Settings()) -> Model:
    """The model of ``signals`` (see the module), deterministic for the same matrix (BLAS on one
    thread: a sum split over threads may round differently from one machine to the next)."""
    with threadpool_limits(limits=1):
        return _fit(signals, settings)


def _fit(signals: Signals, settings: Settings) -> Model:
    """The sweeps, each sum over members or posts written as a product with the weights, so a
    sweep reads the 50 × 10,000 matrix a few times instead of building a dozen copies of it."""
    r, w = signals.values, signals.weights(settings.unseen_weight)
    users, posts = r.shape
    wr, wt = w * r, w.T
    row_w, col_w, total = w.sum(axis=1), w.sum(axis=0), max(float(w.sum()), 1e-12)
    row_wr, col_wr, all_wr = wr.sum(axis=1), wr.sum(axis=0), float(wr.sum())
    f, g = _start(wr)
    a, b = np.zeros(users), np.zeros(posts)
    mu = 0.0
    li, lf = settings.intercept_lambda, settings.factor_lambda
    for _ in range(settings.sweeps):
        wg = w @ g
        mu = (all_wr - float(a @ row_w) - float(b @ col_w) - float(f @ wg)) / total
        a = (row_wr - mu * row_w - f * wg - w @ b) / (row_w + li)
        wf = wt @ f
        b = (col_wr - mu * col_w - g * wf - wt @ a) / (col_w + li)
        base = mu + a
        f = (wr @ g - base * wg - w @ (b * g)) / (w @ (g * g) + lf)
        wf = wt @ f
        g = (wr.T @ f - wt @ (base * f) - b * wf) / (wt @ (f * f) + lf)
    return Model(mu, a, b, f, g)


def _start(weighted: Matrix) -> tuple[Matrix, Matrix]:
    """Member and post factors to start from: the leading singular pair of the (centred) weighted
    signals, scaled to unit size, the sign chosen so the largest member entry is positive."""
    users, posts = weighted.shape
    if users == 0 or posts == 0:
        return np.zeros(users), np.zeros(posts)
    centred = weighted - weighted.mean(axis=1, keepdims=True)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    f, g = u[:, 0] * np.sqrt(s[0]), vt[0] * np.sqrt(s[0])
    if s[0] < 1e-9:  # nobody differs from anybody: start from a small fixed spread
        f = np.linspace(-0.1, 0.1, users)
        g = np.zeros(posts)
    if f[int(np.argmax(np.abs(f)))] < 0:
        f, g = -f, -g
    return f, g


def rank(signals: Signals, *, min_supporters: int = MIN_SUPPORTERS, settings: Settings = Settings()) -> list[Ranked]:
    """The posts with at least ``min_supporters`` supporters, best bridging score first (ties by
    id), each with its explanation."""
    if min_supporters < 1:
        raise ValueError("min_supporters must be at least 1")
    model = fit(signals, settings)
    positive = signals.observed & (signals.values > 0)
    reach = float(np.abs(model.member_factors).max()) if len(signals.members) else 0.0
    margin = settings.side_margin * reach
    out = []
    for j, post in enumerate(signals.posts):
        who = model.member_factors[positive[:, j]]
        if len(who) < min_supporters:
            continue
        spans = bool((who > margin).any() and (who < -margin).any())
        out.append(
            Ranked(
                id=post,
                score=round(float(model.post_intercepts[j]), 9),  # the same digits on every machine
                factor=round(float(model.post_factors[j]), 9),
                supporters=len(who),
                explanation=BRIDGING if spans else ONE_GROUP,
            )
        )
    out.sort(key=lambda r: (-r.score, r.id))
    return out
