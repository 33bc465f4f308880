"""`hub-send` without a hub: rows an adapter cannot map are rejected locally, named by row and
column, and the command exits 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from producers.send import main as hub_send


def test_unmappable_rows_are_rejected_with_their_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "ae.csv"
    export.write_text(
        "Attendance ID,Arrival Date,Arrival Time,NHS Number,Injury Intent\n"
        "TEST-ATT-1,31/02/2026,10:00,9990000001,Assault\n"
        "TEST-ATT-2,2026-02-01,10:00,,Assault\n"
    )
    code = hub_send(
        [str(export), "--format", "ae-attendances", "--no-progress"], {"HUB_API_KEY": "hubk_x_y"}
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "2 rows read, 0 events sent, 0 accepted, 0 duplicate, 2 rejected (unmappable: 2)" in out
    written = (tmp_path / "ae.csv.rejected.ndjson").read_text().splitlines()
    rejections = [json.loads(line) for line in written]
    assert [r["errors"][0]["path"] for r in rejections] == [
        "row 2, column 'Arrival Date'",
        "row 3, column 'NHS Number'",
    ]
    assert oct((tmp_path / "ae.csv.rejected.ndjson").stat().st_mode & 0o777) == "0o600"
