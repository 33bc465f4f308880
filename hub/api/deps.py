"""Dependencies shared by the routers: the hub's services and the authenticated principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from audit.store import SqlAuditStore
from hub.ingress import Ingress
from hub.relay import OutboxRelay
from hub.settings import Settings
from hub.store.principals import Principal, SqlPrincipalStore


@dataclass
class Services:
    settings: Settings
    engine: Engine
    principals: SqlPrincipalStore
    ingress: Ingress
    audit: SqlAuditStore
    relay: OutboxRelay | None = None


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(auto_error=False, description="The API key issued by `hub agencies add`")


def authenticate(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send your API key as 'Authorization: Bearer hubk_…'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = services.principals.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this API key is not valid (unknown, mistyped or revoked); ask the hub "
            "administrator for a new one",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]
