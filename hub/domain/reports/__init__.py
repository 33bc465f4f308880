"""Reports over family projections: the repeat report, the weekly central list and the
outcomes report (outcomes.py explains its measures).

Pure: the projections, the area settings and the week are passed in; no wall clock.

**Repeat report.** A victim and a perpetrator are linked when one agency event names both
(the same link the serial-perpetrator rule counts). Links are gathered across every family
by person id, so a person is counted once however their families were drawn. Victims are
listed by how many different perpetrators they are linked to, perpetrators by how many
different victims; ``min_links`` (default 2) sets who is listed, and the counts of everyone
are given as a distribution.

**Weekly central list** for a Marac area and an ISO week, as of the end of that week (Monday
00:00 local time of the following week, exclusive): events after it are left out, so a past
week's list can be drawn again. Families belong to the area that ``victim_area`` gives for
their timeline up to the end of the week. "In the window" means within the area's window
(default 12 months: back to the same calendar date) before the week's Sunday, both ends
inclusive, as the rules count it. Each person's rank is the sum of the points below, every
factor shown with its points and evidence; ties go to the person whose latest
domestic-abuse event is the more recent, then to the person id (a stable order).

Most vulnerable victims (listed when they have a domestic-abuse event or a Dash in the window):

| factor | points |
|---|---|
| latest Dash in the window | its score (0-24) |
| that Dash at or above the area's high-risk threshold | +10 |
| professional judgement raised (the latest Dash, or a referral, in the window) | +10 |
| domestic-abuse events about the victim in the window | 3 each, at most 15 |
| a weapon used in an incident in the window (a firearm instead) | +5 (+10) |
| injury recorded at an incident or a disclosing attendance in the window | +3 |
| children present at an incident in the window, or named in one | +5 |
| repeat Marac: abuse reported within the window after a hearing, or a hearing marked repeat | +8 |

Most dangerous perpetrators (listed when named as perpetrator in a domestic-abuse event in
the window):

| factor | points |
|---|---|
| victims linked to the person (any time up to the week's end), beyond the first | 10 each |
| incidents naming the person as perpetrator in the window | 3 each, at most 15 |
| a weapon used in those incidents (a firearm, or a firearm marker present) | +5 (+10) |
| breaches of an order in those incidents | 5 each, at most 15 |
| a linked victim whose latest Dash in the window is at or above the high-risk threshold | +5 |
| children present at one of those incidents | +3 |
"""

from hub.domain.reports.central import (
    CentralList,
    Factor,
    Ranked,
    Week,
    central_list,
    upto,
)
from hub.domain.reports.common import ReportError, agency_entries, primary_tokens
from hub.domain.reports.counts import window_counts
from hub.domain.reports.outcomes import HEADER, Line, OutcomesReport, Period, lines, outcomes_report
from hub.domain.reports.repeat import (
    Link,
    RepeatReport,
    RepeatRow,
    repeat_report,
    victim_perpetrator_links,
)

__all__ = [
    "HEADER",
    "CentralList",
    "Factor",
    "Line",
    "Link",
    "OutcomesReport",
    "Period",
    "Ranked",
    "RepeatReport",
    "RepeatRow",
    "ReportError",
    "Week",
    "agency_entries",
    "central_list",
    "lines",
    "outcomes_report",
    "primary_tokens",
    "repeat_report",
    "upto",
    "victim_perpetrator_links",
    "window_counts",
]
