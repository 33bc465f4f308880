"""The IG officer's use cases: search the audit log, open a record and its inclusion proof,
subject access reports, anomalies, the FHIR export, and the log's integrity.

The API (/v1/ig/…) and the pages (/ig/…) call these, so both go through one gate: anyone but
an IG officer is refused, and the refusal is audited (outcome "refused", no decisions); an IG
officer's query is written to the log first (outcome "ig query"), so looking at the log is on
the log, and if that write fails nothing is shown (AuditError). IG officers see codes, tokens,
field names and views, never what a record disclosed: the log holds no content to show.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import ChainedRecord, VerifyResult
from audit.checkpoint import Checkpoint, public_key_pem
from audit.fhir import to_bundle
from audit.ig import (
    IG_QUERY,
    SAR_COLUMNS,
    AuditEntry,
    Criteria,
    decision_of,
    item_decisions,
    summary,
)
from audit.igstore import IG_PURPOSE, IgReports
from audit.prover import prove_inclusion
from audit.store import SqlAuditStore
from audit.verify import verify_log
from consent.policy import PersonRole
from hub.adapters.audit_wiring import load_signer, signing_key_path
from hub.adapters.sql.audit_index import IndexPage, IndexQuery, SqlAuditIndex
from hub.adapters.sql.principals import Principal
from hub.services.access import refuse
from hub.services.context import HubContext
from hub.services.errors import NotFound, Unusable
from hub.services.ports import AuditLog


class IgContext(HubContext, Protocol):
    audit: AuditLog


def _store(ctx: IgContext) -> SqlAuditStore:
    if not isinstance(ctx.audit, SqlAuditStore):
        raise Unusable("this hub's audit log is not the SQL audit store, so it cannot be queried")
    return ctx.audit


def ig_query(
    ctx: IgContext, principal: Principal, action: str, subjects: Sequence[str] = (),
    fields: Sequence[str] = (),
) -> SqlAuditStore:  # fmt: skip
    """Refuse (audited) anyone but an IG officer; record the officer's query; the store."""
    ig_only(ctx, principal, action, subjects)
    ctx.policy.audit(principal, IG_PURPOSE, action, [], subjects, [], fields, IG_QUERY)
    return _store(ctx)


def ig_only(
    ctx: HubContext, principal: Principal, action: str, subjects: Sequence[str] = ()
) -> None:
    """Refuse (audited, outcome "refused") anyone but an IG officer."""
    if principal.kind != "person" or principal.role != PersonRole.IG_OFFICER:
        raise refuse(
            ctx, principal, IG_PURPOSE, action,
            f"role '{principal.role}' may not query the audit log; that is for IG officers",
            subjects,
        )  # fmt: skip


def reports(ctx: IgContext) -> IgReports:
    """The reports, reading the records they filter by subject, period or outcome through the
    SQL index of the log rather than the whole log."""
    return IgReports(_store(ctx), ctx.ingress.store, finder=SqlAuditIndex(ctx.engine))


def search(ctx: IgContext, principal: Principal, q: IndexQuery) -> IndexPage:
    """One page of the records matching every criterion given, newest first (indexed)."""
    ig_query(ctx, principal, "GET /v1/ig/disclosures", [q.subject] if q.subject else [])
    index = SqlAuditIndex(ctx.engine)
    index.catch_up()  # records written by a process without the indexer, if any
    return index.search(q)


@dataclass(frozen=True)
class RecordDetail:
    summary: dict[str, Any]
    decision: str
    decisions: list[dict[str, Any]]  # per item: outcome, view, field names, basis, consent…
    seq: int


def record(ctx: IgContext, principal: Principal, record_id: str) -> RecordDetail:
    """What one record says was disclosed (field names and views), why and on which basis."""
    store = ig_query(ctx, principal, f"GET /v1/ig/records/{record_id}")
    found = store.find(record_id)
    if found is None:
        raise NotFound(f"no audit record has id {record_id}")
    entry = AuditEntry(found.seq, found.record_id, json.loads(found.body))
    keys = ("hub_id", "outcome", "view", "fields", "basis", "consent_ref", "consent_status",
            "override", "reason")  # fmt: skip
    decisions = [{k: d.get(k) for k in keys} for d in item_decisions(entry.body)]
    return RecordDetail(summary(entry), decision_of(entry), decisions, found.seq)


def proof(ctx: IgContext, principal: Principal, record_id: str) -> dict[str, Any]:
    """The record's inclusion proof in the newest signed checkpoint (`hub audit check-proof`)."""
    store = ig_query(ctx, principal, f"GET /v1/ig/records/{record_id}/proof")
    if store.find(record_id) is None:
        raise NotFound(f"no audit record has id {record_id}")
    return prove_inclusion(store, record_id)


def subject_access_report(ctx: IgContext, principal: Principal, token: str) -> dict[str, Any]:
    action = f"GET /v1/ig/subjects/{token}/report"
    ig_query(ctx, principal, action, [token], list(SAR_COLUMNS))
    return reports(ctx).subject_access_report(token)


def subject_access_csv(ctx: IgContext, principal: Principal, token: str) -> str:
    action = f"GET /v1/ig/subjects/{token}/report"
    ig_query(ctx, principal, action, [token], list(SAR_COLUMNS))
    return reports(ctx).subject_access_csv(token)


def anomalies(ctx: IgContext, principal: Principal, criteria: Criteria) -> dict[str, Any]:
    ig_query(ctx, principal, "GET /v1/ig/anomalies")
    return reports(ctx).anomalies(criteria)


def fhir_export(
    ctx: IgContext, principal: Principal, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """The records of a period as a FHIR R4 Bundle of AuditEvents (this export's own record
    included when it falls in the period)."""
    ig_query(ctx, principal, "GET /v1/ig/export/fhir")
    entries = reports(ctx).between(since, until)
    now = datetime.now(UTC).isoformat()
    return to_bundle(entries, ctx.settings.topic("hub"), now, str(uuid.uuid4()))


# --- integrity -----------------------------------------------------------------------------


def public_key(ctx: IgContext) -> str | None:
    """The checkpoint signing key's public half (PEM), or None before the hub has one."""
    signer = load_signer(signing_key_path(ctx.settings))
    return None if signer is None else public_key_pem(signer.public_key)


# records read per step of a verify-now run: each step moves the progress bar
VERIFY_BATCH = 5000


@dataclass
class VerifyRun:
    run_id: str
    started_at: datetime
    total: int
    head: tuple[int, str] | None = None  # the head verified up to, read when it started
    done: int = 0
    finished_at: datetime | None = None
    result: VerifyResult | None = None
    error: str | None = None

    @property
    def percent(self) -> int:
        return 100 if self.finished_at else int(100 * self.done / max(self.total, 1))


@dataclass
class Integrity:
    """Verification runs in the background, one at a time, with progress. Held in the API
    process: the last result is lost on restart (the run itself is on the audit log)."""

    runs: dict[str, VerifyRun] = field(default_factory=dict)
    last: VerifyRun | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, ctx: IgContext, principal: Principal) -> dict[str, Any]:
        store = ig_query(ctx, principal, "GET /v1/ig/integrity")
        checkpoints: list[Checkpoint] = store.checkpoints()
        head = store.head()
        return {
            "latest": checkpoints[-1] if checkpoints else None,
            "history": list(reversed(checkpoints)),
            "records": head[0] if head else 0,
            "last": self.last,
            "running": self.running(),
        }

    def running(self) -> VerifyRun | None:
        with self._lock:
            return next((r for r in self.runs.values() if r.finished_at is None), None)

    def start(self, ctx: IgContext, principal: Principal) -> VerifyRun:
        """Start verifying the whole log now (or hand back the run already going)."""
        store = ig_query(ctx, principal, "POST /v1/ig/integrity/verify")
        with self._lock:
            going = next((r for r in self.runs.values() if r.finished_at is None), None)
            if going is not None:
                return going
            head = store.head()
            total = head[0] if head else 0
            run = VerifyRun(str(uuid.uuid4()), datetime.now(UTC), total, head)
            self.runs[run.run_id] = run
        threading.Thread(target=self._verify, args=(ctx, store, run), daemon=True).start()
        return run

    def run(self, ctx: IgContext, principal: Principal, run_id: str) -> VerifyRun:
        ig_query(ctx, principal, f"GET /v1/ig/integrity/verify/{run_id}")
        found = self.runs.get(run_id)
        if found is None:
            raise NotFound(f"no verification run {run_id} (runs are forgotten on restart)")
        return found

    def _verify(self, ctx: IgContext, store: SqlAuditStore, run: VerifyRun) -> None:
        try:
            signer = load_signer(signing_key_path(ctx.settings))
            key = None if signer is None else signer.public_key
            run.result = verify_counted(store, run, key)
        except Exception as exc:  # reported on the page; the run must end either way
            run.error = f"verification could not run: {exc}"
        run.finished_at = datetime.now(UTC)
        self.last = run


def verify_counted(
    store: SqlAuditStore, run: VerifyRun, key: Ed25519PublicKey | None
) -> VerifyResult:
    """Verify the log up to the run's head, counting records into ``run.done`` batch by batch
    (the progress bar reads it; bench.audit measures how often it moves on 1,000,000 records)."""
    # checkpoints at or below the head read at the start, as SqlAuditStore.verify
    checkpoints = [c for c in store.checkpoints() if c.tree_size <= run.total]
    batches = store.record_batches(run.total, batch=VERIFY_BATCH)
    return verify_log(_counted(batches, run), checkpoints, key, run.head)


def _counted(batches: Iterator[Sequence[ChainedRecord]], run: VerifyRun) -> Iterator[Any]:
    for batch in batches:
        yield batch
        run.done += len(batch)
