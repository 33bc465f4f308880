"""What the use cases need from the hub, as a Protocol: hub.bootstrap.Services provides it,
and a test may provide its own. Services import this, never the bootstrap above them."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from hub.adapters.crypto.vault import Vault
from hub.adapters.sql.family_cache import FamilyCache
from hub.domain.areas import AreaBook
from hub.services.disclosure import PolicyPoint
from hub.services.ingress import Ingress
from hub.settings import Settings


class HubContext(Protocol):
    settings: Settings
    engine: Engine
    ingress: Ingress
    policy: PolicyPoint
    vault: Vault  # names and dates of birth, sealed; shown only where the policy allows
    areas: AreaBook
    families: FamilyCache  # family projections kept parsed, checked against the store
