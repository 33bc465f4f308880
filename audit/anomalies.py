"""The anomaly report: pure functions over audit entries (audit.ig), no storage.

Volume and breadth. For each principal, within a period, count the disclosures that showed
something (volume) and the distinct subjects they named (breadth). Compare each principal
with the others of the same role by the modified z-score of Iglewicz and Hoaglin:

    z = 0.6745 * (x - median) / MAD          (MAD: median absolute deviation from the median)

and flag z > THRESHOLD (3.5, their recommended cut-off). Median and MAD are not dragged up by
the very principal being looked for, as a mean and standard deviation would be. When more
than half the peers have the same count the MAD is 0; then the mean absolute deviation
(times 1.2533, which makes it estimate the same spread for normal data) stands in, and if that
is 0 too everybody is alike and nobody is flagged. A role needs MIN_PEERS principals to be
compared at all. Only principals who disclosed something in the period are peers: the log
does not know who could have and did not.

Repeated reads without a case: a principal who read one subject REPEAT_READS times or more
while that subject had no open case (audit.ig.CaseBook).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from statistics import median
from typing import NamedTuple

from audit.ig import EVERYTHING, AuditEntry, CaseBook, Criteria

THRESHOLD = 3.5
MIN_PEERS = 3
REPEAT_READS = 3
_NORMAL_MAD = 0.6745  # the MAD of a standard normal distribution
_NORMAL_MEANAD = 0.7979  # its mean absolute deviation


class Outlier(NamedTuple):
    principal_id: str
    role: str
    measure: str  # "volume" (disclosures) or "breadth" (distinct subjects)
    value: int
    peer_median: float
    score: float  # the modified z-score


class RepeatedReads(NamedTuple):
    principal_id: str
    role: str
    subject: str
    reads: int
    record_ids: tuple[str, ...]


def modified_z_scores(values: Sequence[float]) -> list[float]:
    """Iglewicz-Hoaglin modified z-scores (mean absolute deviation when the MAD is 0)."""
    mid = median(values)
    deviations = [abs(v - mid) for v in values]
    mad = median(deviations)
    if mad > 0:
        return [_NORMAL_MAD * (v - mid) / mad for v in values]
    mean_ad = sum(deviations) / len(values)
    if mean_ad == 0:
        return [0.0 for _ in values]
    return [_NORMAL_MEANAD * (v - mid) / mean_ad for v in values]


def volume_outliers(
    entries: Iterable[AuditEntry],
    criteria: Criteria = EVERYTHING,
    threshold: float = THRESHOLD,
    min_peers: int = MIN_PEERS,
) -> list[Outlier]:
    """Principals whose disclosure volume or breadth is far above their role's peers'."""
    roles: dict[str, str] = {}
    volume: dict[str, int] = defaultdict(int)
    breadth: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if not e.disclosed or not criteria.matches(e):
            continue
        who = str(e.body["principal_id"])
        roles[who] = str(e.body.get("role", ""))
        volume[who] += 1
        breadth[who].update(e.subjects)
    by_role: dict[str, list[str]] = defaultdict(list)
    for who, role in sorted(roles.items()):
        by_role[role].append(who)
    found = []
    for role, people in sorted(by_role.items()):
        if len(people) < min_peers:
            continue
        for measure, counts in (
            ("volume", [volume[p] for p in people]),
            ("breadth", [len(breadth[p]) for p in people]),
        ):
            mid = median(counts)
            for who, value, z in zip(people, counts, modified_z_scores(counts), strict=True):
                if z > threshold:
                    found.append(Outlier(who, role, measure, value, float(mid), round(z, 2)))
    return found


def repeated_reads_without_case(
    entries: Iterable[AuditEntry],
    cases: CaseBook,
    criteria: Criteria = EVERYTHING,
    at_least: int = REPEAT_READS,
) -> list[RepeatedReads]:
    """(principal, subject) pairs read at_least times while the subject had no open case."""
    reads: dict[tuple[str, str], list[str]] = defaultdict(list)
    roles: dict[str, str] = {}
    for e in entries:
        if not e.disclosed or not criteria.matches(e):
            continue
        who = str(e.body["principal_id"])
        roles[who] = str(e.body.get("role", ""))
        for subject in e.subjects:
            if not cases.open_at(subject, e.time):
                reads[(who, subject)].append(e.record_id)
    return [
        RepeatedReads(who, roles[who], subject, len(ids), tuple(ids))
        for (who, subject), ids in sorted(reads.items())
        if len(ids) >= at_least
    ]
