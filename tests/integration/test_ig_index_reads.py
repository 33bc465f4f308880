"""The IG reports that filter by subject, period or outcome read through the SQL index of the
log (hub.adapters.sql.audit_index.SqlAuditIndex.matching); each must answer exactly as it did
reading the whole log, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from audit.ig import Criteria, select
from audit.igstore import IgReports
from hub.adapters.crypto.tokens import Tokeniser
from hub.adapters.sql.audit_index import SqlAuditIndex
from hub.contract.examples import EXAMPLES
from tests.integration.conftest import Api
from tests.integration.test_disclosure_api import read, send
from tests.integration.test_ig import Scenario


def busy_log(api: Api) -> tuple[Scenario, str]:
    """The IG scenario, then five chairs reading: one far more than the others, reading
    another victim (who has no case) again and again."""
    s = Scenario(api)
    other = copy.deepcopy(EXAMPLES["police.incident"]) | {"id": "TEST-POLICE-INCIDENT-0002"}
    other["data"]["subjects"][0]["identifiers"] = {"nhs_number": "9990000011"}
    send(api, "TEST-POLICE-B", "police", other)
    unopened = Tokeniser(api.services.ingress.tokeniser._key).token("nhs", "9990000011")
    chairs = [api.key(f"Chair {n}", "person", "marac_chair") for n in range(5)]
    for chair in chairs[:4]:
        read(api, chair, s.token)
    for _ in range(12):
        read(api, chairs[4], unopened)
    return s, unopened


def without_time(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


def test_indexed_reports_answer_as_the_whole_log_does(any_db_api: Api) -> None:
    api = any_db_api
    s, unopened = busy_log(api)
    store, events = api.services.audit, api.services.ingress.store
    indexed = IgReports(store, events, finder=SqlAuditIndex(api.services.engine))
    scanned = IgReports(store, events)
    times = sorted(e.time for e in scanned.entries())
    middle, late = times[len(times) // 3], times[2 * len(times) // 3]
    periods: list[tuple[datetime | None, datetime | None]] = [
        (None, None), (middle, None), (None, late), (middle, late),
    ]  # fmt: skip

    for token in (s.token, unopened, f"st_{'a' * 32}"):
        assert without_time(indexed.subject_access_report(token)) == without_time(
            scanned.subject_access_report(token)
        )
        assert indexed.subject_access_csv(token) == scanned.subject_access_csv(token)
    for since, until in periods:
        for subject in (None, s.token, unopened):
            c = Criteria(subject=subject, since=since, until=until)
            assert indexed.disclosures(c) == scanned.disclosures(c)
            assert indexed.overrides(c) == scanned.overrides(c)
            assert indexed.outside_case(c) == scanned.outside_case(c)
            assert indexed.anomalies(c) == scanned.anomalies(c)
        between = [e.record_id for e in indexed.between(since, until)]
        everything = scanned.entries()
        period = Criteria(since=since, until=until)
        assert between == [e.record_id for e in select(everything, period)]

    # the comparison means something: each kind of answer is there to compare
    found = scanned.anomalies(Criteria())
    assert [o["measure"] for o in found["outliers"]] == ["volume"]
    assert [r["subject"] for r in found["repeated_reads_without_case"]] == [unopened]
    assert [o["record_id"] for o in scanned.overrides(Criteria())] == [s.override_read]
    assert 0 < len(indexed.between(middle, late)) < len(scanned.entries())
    # and the index hands over only what was asked for, not the log
    finder = SqlAuditIndex(api.services.engine)
    assert len(list(finder.matching(subject=unopened))) == 12
    assert len(list(finder.matching(since=late))) < len(scanned.entries())
