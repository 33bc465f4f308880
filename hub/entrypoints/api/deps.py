"""Dependencies shared by the routers: the hub's services and the authenticated principal."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.adapters.sql.principals import Principal
from hub.bootstrap import Services
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
