"""Small-number suppression: which cluster counts are withheld, week by week.

Primary: a cluster count from 1 to `suppress_below - 1`. Secondary: where a week has a single
withheld cluster, the city total minus the others would give it away, so the smallest other
non-zero cluster is withheld too; and where every withheld count is 1 (so their total pins each
one), one more is withheld. Because the same week-by-week mask is used by every output (trackers,
series, breakdowns, chat), a figure withheld in one output is never shown in another.
"""
from __future__ import annotations

import numpy as np


def withheld_mask(values: np.ndarray, suppress_below: int) -> np.ndarray:
    """A boolean mask, the shape of `values` (weeks x clusters), of the counts to withhold."""
    v = np.asarray(values, dtype=float)
    if suppress_below <= 1 or v.size == 0:
        return np.zeros(v.shape, dtype=bool)
    primary = (v >= 1) & (v < suppress_below)
    mask = primary.copy()
    counts = primary.sum(axis=1)
    sums = np.where(primary, v, 0).sum(axis=1)
    needs_more = (counts == 1) | ((counts >= 2) & (sums <= counts))
    for i in np.nonzero(needs_more)[0]:
        _add_secondary(v[i], mask[i])
    return mask


def _add_secondary(row: np.ndarray, mask_row: np.ndarray) -> None:
    candidates = ~mask_row & ~np.isnan(row)
    if not candidates.any():
        return
    # Prefer the smallest positive count: it costs the reader least information.
    positive = candidates & (row > 0)
    pool = positive if positive.any() else candidates
    idx = np.nonzero(pool)[0]
    mask_row[idx[np.argmin(row[idx])]] = True
