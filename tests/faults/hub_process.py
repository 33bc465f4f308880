"""`hub up` as an operator runs it, for fault tests: a child process on a data folder, its
children found through /proc, a sender that keeps a ledger of what the hub acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from producers.http_client import HubClient, HubUnavailable
from tests.integration.conftest import wait_for
from tests.processes import processes_mentioning


def children_of(pid: int) -> dict[str, int]:
    """The worker and embedded-broker processes `hub up` (pid) runs, by role."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found["worker" if b"hub\0worker" in cmd else "broker"] = int(entry.name)
    return found


class HubUp:
    """One `hub up` after another on the same data folder and API port."""

    def __init__(self, env: dict[str, str], data_dir: Path, port: int) -> None:
        self.env, self.data_dir = env, data_dir
        self.base_url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        out = open(self.data_dir / f"hub-up-{self.runs}.out", "ab")  # noqa: SIM115 - child's
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "up"], env=self.env, stdout=out, stderr=subprocess.STDOUT
        )
        out.close()

    def children(self) -> dict[str, int]:
        assert self.proc is not None
        return children_of(self.proc.pid)

    def ready(self) -> dict[str, Any] | None:
        """/readyz's body when the hub is ready, else None."""
        assert self.proc is not None
        assert self.proc.poll() is None, f"hub up exited; see {self.data_dir}/hub-up-*.out"
        try:
            r = httpx.get(f"{self.base_url}/readyz", timeout=5)
        except httpx.TransportError:
            return None
        return r.json() if r.status_code == 200 else None

    def kill_child(self, role: str) -> int:
        pid = self.children()[role]
        os.kill(pid, signal.SIGKILL)
        return pid

    def replaced(self, role: str, old: int) -> bool:
        return self.children().get(role) not in (None, old)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)
        # its children die with it (PR_SET_PDEATHSIG) and exit within their grace
        wait_for(lambda: not processes_mentioning(str(self.data_dir)), 60, "hub up's children")

    def terminate(self, deadline: float = 60.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(deadline)


class LedgerSender(threading.Thread):
    """Sends (agency, event) pairs in batches, resending until the hub acknowledges each,
    and records every acknowledged id. Sends no further than `allowed` events."""

    def __init__(
        self, base_url: str, keys: dict[str, str], stream: list[tuple[str, dict[str, Any]]],
        reader_key: str, batch: int = 200,
    ) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.clients = {
            a: HubClient(base_url, k, retries=8, max_backoff=2.0) for a, k in keys.items()
        }
        self.stream, self.batch = stream, batch
        # a Marac chair reads alerts as events arrive: disclosures for the audit log
        self.reader = httpx.Client(
            base_url=base_url, timeout=10, headers={"Authorization": f"Bearer {reader_key}"}
        )
        self.reads = 0
        self.acknowledged: list[tuple[str, str]] = []
        self.refused: list[Any] = []
        self.error: BaseException | None = None
        self.allowed = 0
        self._gate = threading.Condition()
        self._halt = threading.Event()

    def allow(self, n: int) -> None:
        with self._gate:
            self.allowed = n
            self._gate.notify_all()

    def halt(self) -> None:
        self._halt.set()
        self.allow(len(self.stream))

    def run(self) -> None:
        try:
            for start in range(0, len(self.stream), self.batch):
                with self._gate:
                    self._gate.wait_for(lambda s=start: self.allowed > s or self._halt.is_set())
                if self._halt.is_set():
                    return
                self._send(self.stream[start : start + self.batch])
                self._read()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            for client in self.clients.values():
                client.close()
            self.reader.close()

    def _read(self) -> None:
        try:
            r = self.reader.get("/v1/alerts", params={"limit": 5})
        except httpx.TransportError:
            return  # the hub is restarting; the next batch reads again
        if r.status_code == 200:
            self.reads += 1

    def _send(self, chunk: Iterable[tuple[str, dict[str, Any]]]) -> None:
        by_agency: dict[str, list[dict[str, Any]]] = {}
        for agency, event in chunk:
            by_agency.setdefault(agency, []).append(event)
        for agency, events in by_agency.items():
            while not self._halt.is_set():
                try:
                    results = self.clients[agency].send_many(events)
                except HubUnavailable:
                    continue  # the hub is restarting: resend (a resend is stored once)
                for r in results:
                    if r.status in ("accepted", "duplicate"):
                        self.acknowledged.append((agency, str(r.id)))
                    else:
                        self.refused.append(r)
                break
