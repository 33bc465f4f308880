"""The CSV adapters: the example exports map to valid events, each cell maps as documented,
and a cell that cannot be read names its row and column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from hub.contract.parse import parse_event
from hub.domain.agencies import load_agency_types, refusal_to_send
from producers.adapters import ADAPTERS, Context, Mapped, RowProblem, map_rows, read_csv

EXAMPLES = Path(__file__).resolve().parents[2] / "producers" / "examples"
CTX = Context("TEST-AGENCY-A", "urn:hub:agency:TEST-AGENCY-A/export")


def mapped(adapter: str, csv_text: str) -> list[Mapped | RowProblem]:
    return list(map_rows(csv.DictReader(io.StringIO(csv_text)), ADAPTERS[adapter], CTX))


@pytest.mark.parametrize(
    ("adapter", "file", "agency_type", "rows"),
    [
        ("police-incidents", "police_incidents.csv", "police", 5),
        ("ae-attendances", "ae_attendances.csv", "health_ae", 4),
    ],
)
def test_the_example_exports_map_to_events_the_hub_accepts(adapter, file, agency_type, rows):
    results = list(read_csv(EXAMPLES / file, ADAPTERS[adapter], CTX))
    assert len(results) == rows and all(isinstance(r, Mapped) for r in results)
    kind = load_agency_types()[agency_type]
    for result in results:
        assert isinstance(result, Mapped)
        for event in result.events:
            assert refusal_to_send(kind, parse_event(event, 64 * 1024).type) is None


POLICE_HEADER = (
    "Occurrence Ref,Occurrence Date,Occurrence Time,Victim Forename,Victim Surname,Victim DOB,"
    "Victim PNC ID,Victim NHS No,Victim Nominal Ref,Suspect Forename,Suspect Surname,"
    "Suspect PNC ID,Relationship,DA Abuse Types,Injuries,Children Present,Child Ages,"
    "Weapon Used,Firearm Involved,Arrest Made,Orders In Place,Breach Of Order,MO Summary\n"
)


def test_a_police_row_maps_cell_by_cell() -> None:
    row = (
        "TEST/OCC 1,14/07/2026,22:40,Alex,Example,01/04/1991,,999 000 1001,TEST-NOM-1,Sam,Sample,"
        "TEST88/1A,Ex-Partner,Physical; Stalking,Y,N,4;9,Y,Y,Y,DVPN;Bail Conditions,Y,Shouting\n"
    )
    [result] = mapped("police-incidents", POLICE_HEADER + row)
    assert isinstance(result, Mapped)
    incident, relationship = result.events
    assert incident["id"] == "POL-TEST-OCC-1"  # stable: resending the file is a no-op
    assert incident["subject"] == "TEST/OCC 1"
    assert incident["time"] == "2026-07-14T21:40:00Z"  # British Summer Time → UTC
    assert incident["lawfulbasis"] == "dpa2018-part3"
    data = incident["data"]
    victim, suspect = data["subjects"]
    assert victim == {
        "role": "victim",
        "name": "Alex Example",
        "date_of_birth": "1991-04-01",
        "identifiers": {"nhs_number": "9990001001", "agency_ref": "TEST-NOM-1"},
    }
    assert suspect["identifiers"] == {"pnc_id": "TEST88/1A"}
    assert data["abuse_types"] == ["harassment_stalking", "physical"]
    assert (data["children_present"], data["children_ages"]) == (True, [4, 9])
    assert (data["weapon"], data["arrest"], data["breach_of_order"]) == ("firearm", True, True)
    assert data["orders"] == ["bail_conditions", "dvpn_dvpo"]
    assert data["circumstances"] == "Shouting"
    assert relationship["type"] == "relationship.declared"
    assert relationship["data"]["relation"] == "ex_partner"


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"Occurrence Date": "2026/07/14"}, "Occurrence Date"),
        ({"Occurrence Time": "10pm"}, "Occurrence Time"),
        ({"Injuries": "maybe"}, "Injuries"),
        ({"DA Abuse Types": "Shouting"}, "DA Abuse Types"),
        ({"Child Ages": "four"}, "Child Ages"),
        ({"Victim NHS No": "", "Victim Nominal Ref": ""}, "Victim Nominal Ref"),
        ({"Occurrence Ref": ""}, "Occurrence Ref"),
    ],
)
def test_an_unreadable_cell_names_its_row_and_column(cells: dict[str, str], column: str) -> None:
    good = {
        "Occurrence Ref": "R1",
        "Occurrence Date": "14/07/2026",
        "Occurrence Time": "22:40",
        "Victim NHS No": "9990001001",
        "Victim Nominal Ref": "N1",
        "DA Abuse Types": "Physical",
        "Injuries": "N",
        "Child Ages": "",
    }
    row = {**good, **cells}
    text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    [result] = mapped("police-incidents", text)
    assert isinstance(result, RowProblem)
    assert (result.line, result.column) == (2, column)
    assert result.as_error()["path"] == f"row 2, column {column!r}"


AE_HEADER = (
    "Attendance ID,Arrival Date,Arrival Time,NHS Number,Local Patient ID,Forename,Surname,"
    "Date of Birth,Injury Intent,DA Question Asked,DA Disclosed,Pregnancy Status,"
    "Alcohol or Drugs Involved,Referral Made To,Referral Consent,Clinical Notes\n"
)


def test_an_ae_row_maps_cell_by_cell() -> None:
    row = (
        "TEST-ATT-1,2026-01-15,00:20,999 000 1001,TEST-MRN-1,Alex,Example,1991-04-01,"
        "Self-inflicted,Y,Y,Pregnant,Unknown,Marac,Not sought,Notes\n"
    )
    [result] = mapped("ae-attendances", AE_HEADER + row)
    assert isinstance(result, Mapped)
    attendance, referral = result.events
    assert attendance["id"] == "AE-TEST-ATT-1"
    assert attendance["time"] == "2026-01-15T00:20:00Z"  # GMT in winter
    data = attendance["data"]
    assert data["subjects"][0]["role"] == "victim"  # she disclosed
    assert data["subjects"][0]["identifiers"] == {
        "nhs_number": "9990001001",
        "agency_ref": "TEST-MRN-1",
    }
    assert (data["setting"], data["injury"], data["self_harm"]) == ("ae", True, True)
    assert (data["da_question_asked"], data["da_disclosed"]) == (True, "yes")
    assert (data["pregnant"], data["substance_use"]) == (True, None)
    assert referral["type"] == "referral.made"
    assert (referral["data"]["to"], referral["data"]["consent_status"]) == ("marac", "not_sought")


def test_an_ae_patient_who_was_not_asked_is_not_named_a_victim() -> None:
    row = "TEST-ATT-2,2026-01-15,09:00,,TEST-MRN-2,,,,Accidental,N,,Unknown,N,,,\n"
    [result] = mapped("ae-attendances", AE_HEADER + row)
    assert isinstance(result, Mapped)
    [attendance] = result.events
    data = attendance["data"]
    assert data["subjects"][0]["role"] == "other"
    assert data["da_disclosed"] == "not_asked"
    assert data["pregnant"] is None
