"""The IG officer's pages: disclosures search and each record with its inclusion proof, the
log's integrity with "verify now", subject access reports, anomalies and the FHIR export.

Thin like hub/entrypoints/api/ig.py: each page calls one hub.services.ig use case, which
refuses (audited) anyone but an IG officer and writes the officer's query to the log first.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from audit.ig import DECISIONS, Criteria
from hub.adapters.sql.audit_index import IndexQuery
from hub.entrypoints.shared import THROUGH_POLICY_POINT, ServicesDep
from hub.entrypoints.web.rendering import call_service, page
from hub.entrypoints.web.session import FormDep, SessionDep
from hub.services import ig
from hub.services.errors import Unusable

router = APIRouter(include_in_schema=False, dependencies=[THROUGH_POLICY_POINT])

TOKEN = re.compile(r"^st_[a-z2-7]{32}$")
RECORD_ID = re.compile(r"^[0-9a-f-]{36}$")
FILTERS = (
    ("subject", "Subject token (st_…)"), ("principal_id", "Reader (principal id)"),
    ("role", "Role"), ("agency_id", "Agency"), ("purpose", "Purpose"),
    ("basis", "Lawful basis code"),
)  # fmt: skip


def download(body: str, media_type: str, filename: str) -> Response:
    return Response(
        body, media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store"},
    )  # fmt: skip


def _when(request: Request, name: str, errors: list[dict[str, str]]) -> datetime | None:
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        errors.append({"field": name, "message": "Enter a date like 2026-03-01"})
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def subject_param(request: Request, errors: list[dict[str, str]]) -> str:
    """The ?subject= token as typed ("" when none; an error when it is not a token)."""
    token = (request.query_params.get("subject") or "").strip()
    if token and not TOKEN.match(token):
        errors.append({"field": "subject", "message": "Enter a subject token, like st_ and 32 "
                       "letters and digits"})  # fmt: skip
    return token


def _query(request: Request, errors: list[dict[str, str]]) -> IndexQuery:
    values: dict[str, Any] = {}
    for name, _label in FILTERS:
        value = (request.query_params.get(name) or "").strip()[:80]
        values[name] = value or None
    if values["subject"] and not TOKEN.match(values["subject"]):
        errors.append({"field": "subject", "message": "Enter a subject token, like st_ and 32 "
                       "letters and digits"})  # fmt: skip
        values["subject"] = None
    decision = request.query_params.get("decision") or None
    if decision is not None and decision not in DECISIONS:
        errors.append({"field": "decision", "message": "Choose shared, refused or overridden"})
        decision = None
    after = None
    cursor = request.query_params.get("after") or ""
    if "," in cursor:
        at, _, seq = cursor.rpartition(",")
        try:
            after = (datetime.fromisoformat(at), int(seq))
        except ValueError:
            after = None
    raw_limit = request.query_params.get("limit") or "50"
    limit = int(raw_limit) if raw_limit.isdigit() else 50
    return IndexQuery(
        **values, decision=decision, since=_when(request, "since", errors),
        until=_when(request, "until", errors), after=after, limit=limit,
    )  # fmt: skip


@router.get("/ig", response_class=HTMLResponse)
async def ig_home(_session: SessionDep) -> Response:
    return RedirectResponse("/ig/disclosures", status_code=303)


@router.get("/ig/disclosures", response_class=HTMLResponse)
async def disclosures_page(
    request: Request, session: SessionDep, services: ServicesDep
) -> Response:
    """Search the audit log by any of its columns; newest first, a page at a time."""
    errors: list[dict[str, str]] = []
    q = _query(request, errors)
    result = await call_service(ig.search, services, session.principal, q)
    params = {k: v for k, v in request.query_params.items() if k != "after" and v}
    next_url = None
    if result.next_after is not None:
        at, seq = result.next_after
        next_url = "/ig/disclosures?" + urlencode({**params, "after": f"{at.isoformat()},{seq}"})
    return page(
        request, "ig_disclosures.html", 400 if errors else 200, title="Disclosures",
        nav="/ig/disclosures", result=result, errors=errors, q=q, filters=FILTERS,
        decisions=DECISIONS, params=params, next_url=next_url,
    )  # fmt: skip


def _record_id(record_id: str) -> str:
    if not RECORD_ID.match(record_id):
        raise Unusable(f"{record_id!r} is not an audit record id")
    return record_id


@router.get("/ig/records/{record_id}", response_class=HTMLResponse)
async def record_page(
    request: Request, record_id: str, session: SessionDep, services: ServicesDep
) -> Response:
    """One record: what was disclosed (field names and views), why, on which basis."""
    detail = await call_service(ig.record, services, session.principal, _record_id(record_id))
    return page(request, "ig_record.html", title="Audit record", nav="/ig/disclosures", r=detail)


@router.get("/ig/records/{record_id}/proof.json")
async def proof_download(record_id: str, session: SessionDep, services: ServicesDep) -> Response:
    """The record's inclusion proof: `hub audit check-proof FILE --public-key KEY`."""
    proof = await call_service(ig.proof, services, session.principal, _record_id(record_id))
    return download(json.dumps(proof, indent=2), "application/json",
                    f"audit-proof-{record_id}.json")  # fmt: skip


def _run_json(run: ig.VerifyRun) -> dict[str, Any]:
    result = run.result
    return {
        "run_id": run.run_id, "percent": run.percent, "done": run.done, "total": run.total,
        "finished": run.finished_at is not None, "error": run.error,
        "ok": None if result is None else result.ok,
        "problem": None if result is None else result.problem,
        "bad_seq": None if result is None else result.bad_seq,
        "bad_record_id": None if result is None else result.bad_record_id,
    }  # fmt: skip


def _integrity(request: Request) -> ig.Integrity:
    found: ig.Integrity = request.app.state.ig_integrity
    return found


@router.get("/ig/integrity", response_class=HTMLResponse)
async def integrity_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """The latest signed checkpoint, the last verification, verify now, the history."""
    checks = _integrity(request)
    status = await call_service(checks.status, services, session.principal)
    run = status["running"] or status["last"]
    return page(
        request, "ig_integrity.html", title="Integrity of the audit log", nav="/ig/integrity",
        s=status, run=run and _run_json(run),
        refresh=status["running"] is not None,
    )  # fmt: skip


@router.post("/ig/integrity/verify", response_class=HTMLResponse)
async def verify_now(
    request: Request, session: SessionDep, services: ServicesDep, _form: FormDep
) -> Response:
    await call_service(_integrity(request).start, services, session.principal)
    return RedirectResponse("/ig/integrity#verification", status_code=303)


@router.get("/ig/integrity/runs/{run_id}.json")
async def verify_progress(
    request: Request, run_id: str, session: SessionDep, services: ServicesDep
) -> Response:
    run = await call_service(_integrity(request).run, services, session.principal, run_id)
    return Response(json.dumps(_run_json(run)), media_type="application/json",
                    headers={"Cache-Control": "no-store"})  # fmt: skip


@router.get("/ig/integrity/public-key.pem")
async def public_key_download(session: SessionDep, services: ServicesDep) -> Response:
    await call_service(ig.ig_query, services, session.principal, "GET /v1/ig/public-key")
    pem = await call_service(ig.public_key, services)
    if pem is None:
        raise Unusable("the hub has no checkpoint signing key yet")
    return download(pem, "application/x-pem-file", "hub-audit.pem")


@router.get("/ig/subjects", response_class=HTMLResponse)
async def subject_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """A subject access report: who saw what about a person, when, why, on which basis."""
    errors: list[dict[str, str]] = []
    token = subject_param(request, errors)
    fmt = request.query_params.get("format", "html")
    report = None
    if not token or errors:  # the form alone: still IG officers only, still on the log
        await call_service(ig.ig_query, services, session.principal, "GET /ig/subjects")
    else:
        if fmt == "csv":
            text = await call_service(ig.subject_access_csv, services, session.principal, token)
            return download(text, "text/csv; charset=utf-8", f"subject-access-{token}.csv")
        report = await call_service(ig.subject_access_report, services, session.principal, token)
        if fmt == "json":
            return download(json.dumps(report, indent=2), "application/json",
                            f"subject-access-{token}.json")  # fmt: skip
    return page(
        request, "ig_subject.html", 400 if errors else 200, title="Subject access report",
        nav="/ig/subjects", token=token, report=report, errors=errors,
    )  # fmt: skip


@router.get("/ig/anomalies", response_class=HTMLResponse)
async def anomalies_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """Readers far above their role's peers; repeated reads without an open case."""
    errors: list[dict[str, str]] = []
    since, until = _when(request, "since", errors), _when(request, "until", errors)
    found = await call_service(
        ig.anomalies, services, session.principal, Criteria(since=since, until=until)
    )
    return page(
        request, "ig_anomalies.html", 400 if errors else 200, title="Anomalies",
        nav="/ig/anomalies", a=found, errors=errors,
        since=request.query_params.get("since", ""), until=request.query_params.get("until", ""),
    )  # fmt: skip


@router.get("/ig/export", response_class=HTMLResponse)
async def export_page(request: Request, session: SessionDep, services: ServicesDep) -> Response:
    """FHIR R4 AuditEvent bundle of a period, for an organisation's audit repository."""
    errors: list[dict[str, str]] = []
    since, until = _when(request, "since", errors), _when(request, "until", errors)
    if request.query_params.get("download") and not errors:
        bundle = await call_service(ig.fhir_export, services, session.principal, since, until)
        return download(json.dumps(bundle), "application/fhir+json", "audit-events.json")
    await call_service(ig.ig_query, services, session.principal, "GET /ig/export")
    return page(
        request, "ig_export.html", 400 if errors else 200, title="Export for audit",
        nav="/ig/export", errors=errors,
        since=request.query_params.get("since", ""), until=request.query_params.get("until", ""),
    )  # fmt: skip
