"""The administrator's read-only pages about how the hub is set: the rules in force in each
Marac area (`hub rules show`: every rule in plain words with the settings it reads) and the
sharing policy for a role (`hub policy explain` for every event type). Through
hub.services.admin_views, which refuses anyone but an administrator, audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub.domain.areas import DEFAULT
from hub.entrypoints.shared import ServicesDep
from hub.entrypoints.web.admin import AdminDep, attempt
from hub.entrypoints.web.rendering import page
from hub.entrypoints.web.session import SessionDep
from hub.services.access import Purpose
from hub.services.admin_views import PURPOSES, area_rules, policy_for_role

router = APIRouter(include_in_schema=False)


@router.get("/admin/rules", response_class=HTMLResponse)
async def rules(
    request: Request, session: SessionDep, admin: AdminDep, services: ServicesDep
) -> HTMLResponse:
    """The rules and the settings in force in one area ([default] unless asked)."""
    area = request.query_params.get("area") or DEFAULT
    found, errors = await attempt(area_rules, admin, session.principal, services.areas, area)
    if found is None:  # an area not in the file: say so, and show [default]
        found, _ = await attempt(area_rules, admin, session.principal, services.areas, DEFAULT)
    source = services.settings.rules_file or "the packaged hub/data/areas.toml"
    return page(
        request, "admin_rules.html", 400 if errors else 200, title="Rules in force",
        nav="/admin/rules", found=found, source=source, errors=errors,
    )  # fmt: skip


@router.get("/admin/policy", response_class=HTMLResponse)
async def policy(
    request: Request, session: SessionDep, admin: AdminDep, services: ServicesDep
) -> HTMLResponse:
    """What a role sees of each event type for a purpose, and why."""
    q = request.query_params
    role = q.get("role") or "marac_chair"
    purpose = q.get("purpose") or Purpose.marac_case_preparation.value
    own = q.get("own") == "yes"
    args = (admin, session.principal, services.policy.policy, role, purpose, own)
    found, errors = await attempt(policy_for_role, *args)
    return page(
        request, "admin_policy.html", 400 if errors else 200, title="Sharing policy",
        nav="/admin/policy", found=found or [], roles=admin.roles(), purposes=PURPOSES,
        role=role, purpose=purpose, own=own, errors=errors,
    )  # fmt: skip
