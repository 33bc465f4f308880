"""The family view's window counts, reused between reads while they cannot have moved, are
always what window_counts works out afresh."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.areas import AreaSettings
from hub.domain.reports import window_counts
from hub.services.families import Shown, counts_as_of
from tests.unit.family_builders import MONDAY, PERP, VICTIM, dash, days, fold, incident

AREA = AreaSettings(name="TEST-AREA", window_days=3)  # a short window: entries leave it soon
# events before, around and after the reads, some at the same moment as a read
FAMILY = fold([
    incident(MONDAY - days(5), VICTIM, [PERP]), incident(MONDAY, VICTIM, [PERP]),
    dash(14, MONDAY + days(1), VICTIM), incident(MONDAY + days(1.5), VICTIM, [PERP]),
    incident(MONDAY + days(4), VICTIM, [PERP]),
])  # fmt: skip
TIMELINE = [e.to_dict() for e in FAMILY.timeline]


@settings(deadline=None)
@given(st.lists(st.integers(min_value=-3 * 24 * 60, max_value=10 * 24 * 60), max_size=12))
def test_reused_counts_equal_fresh_ones_at_every_read(minutes: list[int]) -> None:
    shown = Shown({}, TIMELINE, AREA, [])
    reads = [MONDAY + timedelta(minutes=m) for m in minutes]
    reads += [MONDAY + days(1), MONDAY + days(1), MONDAY + days(1.5)]  # an entry's own moment
    for now in reads:  # in any order: a clock that steps back must not reuse later counts
        assert counts_as_of(shown, lambda: FAMILY, now) == window_counts(FAMILY, AREA, now)


def test_an_entry_counts_once_its_time_is_reached_though_the_day_is_the_same() -> None:
    shown = Shown({}, TIMELINE, AREA, [])
    before = counts_as_of(shown, lambda: FAMILY, MONDAY + days(1.5) - timedelta(seconds=1))
    after = counts_as_of(shown, lambda: FAMILY, MONDAY + days(1.5))
    assert after["victims"][VICTIM]["police_incidents"] == (
        before["victims"][VICTIM]["police_incidents"] + 1
    )
