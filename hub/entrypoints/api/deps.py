"""Dependencies shared by the routers: the hub's services and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.adapters.sql.principals import Principal
from hub.bootstrap import Services
from hub.entrypoints.api.guard import BAD_KEY, MISSING_KEY, authenticate_key
from hub.entrypoints.shared import (
    THROUGH_POLICY_POINT,
    PolicyDep,
    ServicesDep,
    get_policy_point,
    get_services,
)

__all__ = [
    "THROUGH_POLICY_POINT", "PolicyDep", "PrincipalDep", "Services", "ServicesDep",
    "get_policy_point", "get_services",
]  # fmt: skip


_bearer = HTTPBearer(auto_error=False, description="The API key issued by `hub agencies add`")


async def authenticate(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal the request guard (guard.py) authenticated before the body was read;
    looked up here only when the guard did not run (an app built without it)."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is not None:
        return principal
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, MISSING_KEY, headers={"WWW-Authenticate": "Bearer"}
        )
    principal = await authenticate_key(services, credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, BAD_KEY, headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]
