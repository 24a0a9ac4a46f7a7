"""The demo reproduces the published tracker for the week commencing 20 July 2015 (Figure 2)."""
import pytest

# Published: latest, change on the week, change since the CYPP start. The % column is computed
# honestly from these figures: -175 / 1,422 = -12.307 % (published -12.2), -479 / 2,074 = -23.095 %
# (published -22.8).
PUBLISHED = {
    "cla": (1247, -5, -175, -12.3),
    "neet": (1595, 7, -479, -23.1),
    "absence_primary": (4.4, 0.6, -1.9, None),
    "absence_secondary": (7.2, -3.3, -2.5, None),
}


@pytest.mark.parametrize("key", PUBLISHED)
def test_figure2_row(figure2_tracker, key):
    latest, week, since, pct = PUBLISHED[key]
    row = figure2_tracker.row(key)
    places = row.obsession.decimals
    assert round(row.latest, places) == latest
    assert round(row.change_since_last_week, places) == week
    assert round(row.change_since_baseline, places) == since
    if pct is None:
        assert row.percent_change_since_baseline is None
    else:
        assert round(row.percent_change_since_baseline, 1) == pct


def test_figure2_verdicts(figure2_tracker):
    got = {r.obsession.key: (r.verdict_since_last_week, r.verdict_since_baseline) for r in figure2_tracker.rows}
    assert got == {"cla": ("better", "better"), "neet": ("worse", "better"),
                   "absence_primary": ("worse", "better"), "absence_secondary": ("better", "better")}


def test_figure2_forecast_shows_turned_curve(figure2_tracker):
    f = figure2_tracker.row("cla").forecast
    assert f is not None and f.gap < -400            # "over 500 more children ... safely at home"
    assert f.description.startswith("about ") and f.description.endswith("fewer children looked after than the pre-plan trend")
