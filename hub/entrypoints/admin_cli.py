"""`hub agencies …` and `hub users …`: the operator's side of hub/services/admin.py, the same
service the administrator's pages call, so each change is checked and written to the audit
log (who: ``cli:<os user>``; why: ``--reason``) the same way."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import Any

from hub.adapters.sql.accounts import Account
from hub.services.admin import Administration, operator
from hub.services.errors import ServiceError
from hub.settings import Settings

NO_REASON = "not stated (hub command line)"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER: a container, say
        return "unknown"


def _admin(settings: Settings) -> Administration:
    from hub.bootstrap import operator_administration

    return operator_administration(settings)


def _do(settings: Settings, args: argparse.Namespace, change: str, *params: Any) -> Any:
    """Call one Administration method as the operator; its refusals become the CLI's one-line
    error (args.cli_error, set by register)."""
    from audit.chain import AuditError

    try:
        return getattr(_admin(settings), change)(operator(_os_user()), *params)
    except ServiceError as exc:
        raise args.cli_error(str(exc)) from None
    except AuditError as exc:
        raise args.cli_error(f"the audit log cannot be written ({exc}); nothing changed") from None


def _state(a: Account) -> str:
    if a.login_disabled:
        return "disabled"
    return "revoked" if a.revoked_at is not None else "active"


def cmd_agencies_list(settings: Settings, args: argparse.Namespace) -> int:
    for a in _do(settings, args, "agencies"):
        keys = ", ".join(k.key_id for k in a.signing_keys if k.revoked_at is None) or "none"
        print(f"{a.principal.name}\t{a.principal.role}\t{_state(a)}\tsigning keys: {keys}")
    return 0


def cmd_agencies_add(settings: Settings, args: argparse.Namespace) -> int:
    _p, key = _do(settings, args, "add_agency", args.name, args.type, args.reason)
    print(f"agency {args.name} ({args.type}) added. Its API key, shown once, keep it secret:")
    print(key)
    print(f"To send straight to Kafka, give it a signing key: hub agencies signing-key {args.name}")
    return 0


def _named_change(change: str, said: str, shows_secret: bool = False) -> Any:
    """A command that makes one change to the principal named, with a reason; said (with
    {name}) is what it prints, followed by the new key or password it shows once."""

    def command(settings: Settings, args: argparse.Namespace) -> int:
        made = _do(settings, args, change, args.name, args.reason)
        print(said.format(name=args.name))
        if shows_secret:
            print(made)
        return 0

    return command


ROTATE = _named_change(
    "rotate_agency_key",
    "agency {name} has a new API key; the old one no longer works. Shown once:",
    shows_secret=True,
)
REVOKE = _named_change(
    "revoke_agency", "agency {name}'s API key is revoked: it can no longer send or read"
)
RESET = _named_change(
    "reset_password",
    "{name}'s temporary password, shown once (give it to them in person or by a trusted "
    "channel; it clears a lock-out, and they choose their own when they log in with it):",
    shows_secret=True,
)
DISABLE = _named_change(
    "disable_person", "{name} can no longer log in, and their API key no longer works"
)


def cmd_agencies_signing_key(settings: Settings, args: argparse.Namespace) -> int:
    """Register (or generate, or revoke) an agency system's Ed25519 key for Kafka-direct."""
    from hub.contract import signing

    if args.revoke:
        _do(settings, args, "revoke_signing_key", args.name, args.revoke, args.reason)
        print(f"signing key {args.revoke} of {args.name} revoked")
        return 0
    out = Path(args.private_key_out) if args.private_key_out else None
    if out is not None and (args.public_key or out.exists()):
        raise args.cli_error(f"{out} exists, or --public-key was given too; choose a new file")
    private_pem = None
    if args.public_key:
        public_text = Path(args.public_key).read_bytes()
    else:
        private = signing.generate_private_key()
        private_pem = signing.private_key_pem(private)
        public_text = signing.public_key_pem(signing.raw_public_key(private))
    key_id = _do(settings, args, "add_signing_key", args.name, public_text, args.reason)
    if private_pem is not None and out is not None:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(private_pem)
    print(f"signing key {key_id} registered for {args.name}")
    if out is not None:
        print(f"its private key is in {out} (mode 0600); hand it to the agency's system")
    elif private_pem is not None:
        print("Its private key, shown once (the hub keeps only the public half):")
        print(private_pem.decode(), end="")
    return 0


def _typed_password(args: argparse.Namespace) -> str:
    password = getpass.getpass(f"new password for {args.name}: ")
    if getpass.getpass("the same again: ") != password:
        raise args.cli_error("the two passwords differ; nothing changed")
    return password


def cmd_users_list(settings: Settings, args: argparse.Namespace) -> int:
    for a in _do(settings, args, "people"):
        p = a.principal
        where = "\t".join(f"{k}: {v}" for k, v in (("agency", p.agency_id), ("area", p.area)) if v)
        print(f"{p.name}\t{p.role}\t{_state(a)}" + (f"\t{where}" if where else ""))
    return 0


def cmd_users_add(settings: Settings, args: argparse.Namespace) -> int:
    password = _typed_password(args) if args.password_prompt else None
    args_ = (args.name, args.role, args.agency, args.area, args.reason, password)
    _p, key = _do(settings, args, "add_person", *args_)
    where = f" for Marac area {args.area}" if args.area else ""
    print(f"user {args.name} ({args.role}){where} added. Their API key, shown once:")
    print(key)
    return 0


def cmd_users_set_password(settings: Settings, args: argparse.Namespace) -> int:
    _do(settings, args, "set_password", args.name, _typed_password(args), args.reason)
    print(f"password set for {args.name}; they log in at the hub's web address")
    return 0


def register(sub: Any, error: type[Exception]) -> None:
    """The `agencies` and `users` commands; error is the CLI's one-line error."""

    def _with_reason(parser: argparse.ArgumentParser, func: Any) -> None:
        parser.add_argument(
            "--reason", default=NO_REASON, help="why: kept with the change in the audit log"
        )
        parser.set_defaults(func=func, cli_error=error)

    agencies = sub.add_parser("agencies", help="agency systems and their API keys")
    a_sub = agencies.add_subparsers(dest="action", required=True)
    a_sub.add_parser("list", help="agency systems, their state and signing keys").set_defaults(
        func=cmd_agencies_list, cli_error=error
    )
    a_add = a_sub.add_parser("add", help="register an agency system and issue its API key")
    a_add.add_argument("name", help="e.g. TEST-POLICE-A")
    a_add.add_argument("--type", required=True, help="agency type, e.g. police, idva, health_ae")
    _with_reason(a_add, cmd_agencies_add)
    a_rot = a_sub.add_parser("rotate-key", help="a new API key; the old one stops at once")
    a_rot.add_argument("name")
    _with_reason(a_rot, ROTATE)
    a_rev = a_sub.add_parser("revoke", help="stop the agency's API key for good")
    a_rev.add_argument("name")
    _with_reason(a_rev, REVOKE)
    a_key = a_sub.add_parser(
        "signing-key",
        help="register the Ed25519 public key an agency signs Kafka-direct messages with",
        description="With --public-key, register the agency's own key (best: the private half "
        "never leaves the agency). Without, generate a pair and show the private key once.",
    )
    a_key.add_argument("name", help="the agency, as added with `hub agencies add`")
    a_key.add_argument("--public-key", help="PEM file (openssl pkey -pubout) or base64 raw key")
    a_key.add_argument("--private-key-out", help="write a generated private key here (0600)")
    a_key.add_argument("--revoke", metavar="KEY_ID", help="stop accepting this key")
    _with_reason(a_key, cmd_agencies_signing_key)

    users = sub.add_parser("users", help="people who read from the hub")
    u_sub = users.add_subparsers(dest="action", required=True)
    u_sub.add_parser("list", help="people, their roles and state").set_defaults(
        func=cmd_users_list, cli_error=error
    )
    u_add = u_sub.add_parser("add", help="register a user and issue their API key")
    u_add.add_argument("name")
    u_add.add_argument(
        "--role",
        required=True,
        help="marac_chair, marac_coordinator, ig_officer, admin (the hub administrator: the "
        "/admin pages), or a practitioner's agency type (police, gp, idva, …; needs --agency)",
    )
    u_add.add_argument("--agency", default=None, help="the agency the user acts for")
    u_add.add_argument(
        "--area",
        default=None,
        help="a Marac chair's or coordinator's area (as in areas.toml and marac.case_heard): "
        "they see that area's alerts and agenda only; without it, every area's",
    )
    u_add.add_argument(
        "--password-prompt", action="store_true",
        help="ask for a password (typed twice, not echoed) so they can log in to the web pages",
    )  # fmt: skip
    _with_reason(u_add, cmd_users_add)
    u_pw = u_sub.add_parser("set-password", help="set a user's web password (clears a lock-out)")
    u_pw.add_argument("name")
    _with_reason(u_pw, cmd_users_set_password)
    u_reset = u_sub.add_parser(
        "reset-password", help="give a user a temporary password, shown once"
    )
    u_reset.add_argument("name")
    _with_reason(u_reset, RESET)
    u_off = u_sub.add_parser("disable", help="end a user's logins and API key")
    u_off.add_argument("name")
    _with_reason(u_off, DISABLE)
