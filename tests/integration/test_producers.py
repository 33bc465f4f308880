"""What agencies run, against the running hub: HubClient over HTTP (with retries proven on a
real socket), and `hub-send` end to end over HTTP and Kafka, with both CSV adapters."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.adapters.kafka import topics
from hub.adapters.kafka.embedded import free_port
from hub.adapters.sql.schema import events
from hub.bootstrap import build_services
from hub.entrypoints.stack import child_env
from producers.http_client import HubClient
from producers.send import main as hub_send
from tests import builders as b
from tests.integration.conftest import RunningHub, wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "producers" / "examples"


def api_key(hub: RunningHub, name: str, agency_type: str) -> str:
    services = build_services(hub.settings)
    try:
        return services.principals.add(name, "agency_system", agency_type, agency_id=name)[1]
    finally:
        services.engine.dispose()


def stored_ids(hub: RunningHub) -> set[str]:
    engine = build_services(hub.settings).engine
    try:
        with engine.connect() as conn:
            return set(conn.execute(select(events.c.source_id)).scalars())
    finally:
        engine.dispose()


def test_hub_client_sends_one_and_many_and_resends_safely(running_hub: RunningHub) -> None:
    key = api_key(running_hub, "TEST-POLICE-A", "police")
    with HubClient(str(running_hub.http.base_url), key) as client:
        first = b.incident()
        assert client.send(first).status == "accepted"
        assert client.send(first).status == "duplicate"
        batch = [b.incident(), b"{not json", b.incident(type="police.rumour"), first]
        results = client.send_many(batch)
    assert [r.status for r in results] == ["accepted", "rejected", "rejected", "duplicate"]
    assert [r.reason for r in results] == [None, "malformed_json", "unknown_type", None]
    assert {first["id"], batch[0]["id"]} <= stored_ids(running_hub)  # type: ignore[index]


class FlakyHub(BaseHTTPRequestHandler):
    """Answers 503 to the first request, then 202 like the hub."""

    requests: list[str] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FlakyHub.requests.append(self.path)
        if len(FlakyHub.requests) == 1:
            self.send_response(503)
            self.end_headers()
            return
        out = json.dumps({"id": body["id"], "hub_id": "h-1", "status": "accepted"}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def flaky_port() -> Iterator[tuple[int, list[ThreadingHTTPServer]]]:
    servers: list[ThreadingHTTPServer] = []
    FlakyHub.requests = []
    yield free_port(), servers
    for server in servers:
        server.shutdown()
        server.server_close()


def test_hub_client_retries_a_closed_port_then_a_503_then_succeeds(flaky_port) -> None:
    port, servers = flaky_port
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the hub comes up while the client backs off
        sleeps.append(seconds)
        if not servers:
            server = ThreadingHTTPServer(("127.0.0.1", port), FlakyHub)
            servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()

    client = HubClient(f"http://127.0.0.1:{port}", "hubk_x_y", retries=4, sleep=sleep)
    result = client.send(b.incident())
    client.close()
    assert result.status == "accepted"
    assert client.attempts == 3  # refused, 503, 202
    assert len(sleeps) == 2
    assert FlakyHub.requests == ["/v1/events", "/v1/events"]


def run_send(args: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    code = hub_send(args, env)
    out, err = capsys.readouterr()
    return code, out, err


def test_hub_send_both_csv_exports_over_http(running_hub: RunningHub, capsys, tmp_path) -> None:
    base = str(running_hub.http.base_url)
    for agency, agency_type, file, fmt, rows in [
        ("TEST-POLICE-A", "police", "police_incidents.csv", "police-incidents", 5),
        ("TEST-AE-A", "health_ae", "ae_attendances.csv", "ae-attendances", 4),
    ]:
        env = {"HUB_URL": base, "HUB_API_KEY": api_key(running_hub, agency, agency_type)}
        args = [str(EXAMPLES / file), "--format", fmt, "--agency", agency, "--progress"]
        code, out, err = run_send([*args, "--rejections", str(tmp_path / "r.ndjson")], env, capsys)
        assert code == 0, out + err
        assert f"{rows} rows read" in out and "0 rejected" in out
        assert "[" + "#" * 30 + "]" in err  # the progress bar, drawn to the end
        again, out, _ = run_send(args, env, capsys)  # the same file again: all duplicates
        assert again == 0 and " 0 accepted" in out
    ids = stored_ids(running_hub)
    assert {
        "POL-TEST-OCC-2026-000101",
        "POL-TEST-OCC-2026-000101-REL",
        "AE-TEST-ATT-880001",
        "AE-TEST-ATT-880001-REF",
    } <= ids
    assert not (tmp_path / "r.ndjson").exists()  # nothing rejected, nothing written


def test_hub_send_a_file_with_bad_lines_exits_1_and_writes_rejections(
    running_hub: RunningHub, tmp_path: Path
) -> None:
    good = [b.incident(), b.incident()]
    lines = [
        json.dumps(good[0]),
        '{"specversion": "1.0", "id": "TEST-BROKEN"',  # cut off: not JSON
        json.dumps(b.dash(14, subjects=[b.perpetrator()])),  # no victim
        "",
        json.dumps(good[1]),
    ]
    file = tmp_path / "events.ndjson"
    file.write_text("\n".join(lines) + "\n")
    env = child_env(running_hub.settings) | {
        "HUB_URL": str(running_hub.http.base_url),
        "HUB_API_KEY": api_key(running_hub, "TEST-POLICE-A", "police"),
    }
    # the console command itself, in a process of its own
    done = subprocess.run(
        [sys.executable, "-m", "producers.send", str(file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "4 events read, 4 sent, 2 accepted, 0 duplicate, 2 rejected" in done.stdout
    rejections = [
        json.loads(x) for x in (tmp_path / "events.ndjson.rejected.ndjson").read_text().splitlines()
    ]
    assert [(r["line"], r["reason"]) for r in rejections] == [(2, "malformed_json"), (3, "invalid")]
    assert rejections[1]["errors"][0]["path"] == "data.subjects"
    text = json.dumps(rejections)
    assert "Sam Sample" not in text and "TEST00000002" not in text  # no contents, no people
    assert {e["id"] for e in good} <= stored_ids(running_hub)


def test_hub_send_over_kafka_with_a_key_from_hub_agencies(
    running_hub: RunningHub, tmp_path: Path, capsys
) -> None:
    s = running_hub.settings
    api_key(running_hub, "TEST-AE-A", "health_ae")
    key_file = tmp_path / "ae-signing.pem"
    registered = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "agencies",
            "signing-key",
            "TEST-AE-A",
            "--private-key-out",
            str(key_file),
        ],
        env=child_env(s),
        capture_output=True,
        text=True,
        check=False,
    )
    assert registered.returncode == 0, registered.stderr
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    hub_key = subprocess.run(
        [sys.executable, "-m", "hub", "ingress-key"],
        env=child_env(s),
        capture_output=True,
        check=True,
    )
    (tmp_path / "hub-ingress.pem").write_bytes(hub_key.stdout)
    env = {
        "HUB_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
        "HUB_SIGNING_KEY": str(key_file),
        "HUB_INGRESS_KEY": str(tmp_path / "hub-ingress.pem"),
        "HUB_EMBEDDED_BROKER": "1",
    }
    args = [
        str(EXAMPLES / "ae_attendances.csv"),
        "--format",
        "ae-attendances",
        "--via",
        "kafka",
        "--agency",
        "TEST-AE-A",
        "--topic",
        s.topic(topics.INGRESS_RAW),
    ]
    code, out, err = run_send(args, env, capsys)
    assert code == 0, out + err
    assert "4 rows read, 6 events sent" in out  # two rows also carry a referral
    wanted = {"AE-TEST-ATT-880001", "AE-TEST-ATT-880001-REF", "AE-TEST-ATT-880004"}
    wait_for(lambda: wanted <= stored_ids(running_hub), 60, "the Kafka-direct events")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["missing.ndjson"], {"HUB_API_KEY": "k"}, "is not a file"),
        ([str(EXAMPLES / "ae_attendances.csv")], {}, "--format"),
        ([str(EXAMPLES / "ae_attendances.csv"), "--format", "ae-attendances"], {}, "HUB_API_KEY"),
        (
            [str(EXAMPLES / "ae_attendances.csv"), "--format", "ae-attendances", "--via", "kafka"],
            {},
            "--bootstrap",
        ),
        (
            [
                str(EXAMPLES / "ae_attendances.csv"),
                "--format",
                "ae-attendances",
                "--retries",
                "0",
                "--url",
                f"http://127.0.0.1:{free_port()}",
            ],
            {"HUB_API_KEY": "k"},
            "could not reach",
        ),
    ],
)
def test_hub_send_errors_are_one_line_and_exit_2(args, env, message, capsys) -> None:
    code, _out, err = run_send(args, env, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("hub-send: ") and message in err
