"""Dependencies shared by the routers: the hub's services and the authenticated principal."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.adapters.sql.principals import Principal
from hub.bootstrap import Services
from hub.services.disclosure import PolicyPoint

__all__ = ["THROUGH_POLICY_POINT", "PolicyDep", "PrincipalDep", "Services", "ServicesDep"]


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_policy_point(services: ServicesDep) -> PolicyPoint:
    """The one policy decision and enforcement point: a route that shows personal
    information takes this dependency (a test checks every route)."""
    return services.policy


PolicyDep = Annotated[PolicyPoint, Depends(get_policy_point)]
# For a route whose service reads through services.policy: it still declares the policy
# point, so the test that enumerates routes showing personal information sees it.
THROUGH_POLICY_POINT = Depends(get_policy_point)

_bearer = HTTPBearer(auto_error=False, description="The API key issued by `hub agencies add`")


async def authenticate(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send your API key as 'Authorization: Bearer hubk_…'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = services.key_cache.get(credentials.credentials)
    if principal is None:
        principal = await asyncio.to_thread(
            services.principals.authenticate, credentials.credentials
        )
        if principal is not None:
            services.key_cache.put(credentials.credentials, principal)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this API key is not valid (unknown, mistyped or revoked); ask the hub "
            "administrator for a new one",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]
