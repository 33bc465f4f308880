"""The `hub` command. Errors end with exit code 2 and one line saying what was wrong."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from audit import cli as audit_cli
from hub.domain.agencies import load_agency_types
from hub.settings import Settings, SettingsError, load_settings


class CliError(Exception):
    """A command cannot go on; the message is the one line shown."""


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from hub.store.db import create_schema, make_engine

    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    return engine


def cmd_agencies_add(settings: Settings, args: argparse.Namespace) -> int:
    from hub.store.principals import PrincipalError, SqlPrincipalStore

    types = load_agency_types()
    if args.type not in types:
        raise CliError(f"unknown agency type {args.type!r}; choose one of: {', '.join(types)}")
    try:
        _p, key = SqlPrincipalStore(_engine(settings)).add(
            args.name, "agency_system", args.type, agency_id=args.name
        )
    except PrincipalError as exc:
        raise CliError(str(exc)) from None
    print(f"agency {args.name} ({args.type}) added. Its API key, shown once, keep it secret:")
    print(key)
    return 0


def cmd_users_add(settings: Settings, args: argparse.Namespace) -> int:
    from hub.store.principals import PrincipalError, SqlPrincipalStore

    try:
        _p, key = SqlPrincipalStore(_engine(settings)).add(
            args.name, "person", args.role, agency_id=args.agency
        )
    except PrincipalError as exc:
        raise CliError(str(exc)) from None
    print(f"user {args.name} ({args.role}) added. Their API key, shown once:")
    print(key)
    return 0


def cmd_subjects_erase(settings: Settings, args: argparse.Namespace) -> int:
    from hub.api.app import field_cipher

    if not args.token.startswith("st_"):
        raise CliError(f"{args.token!r} is not a subject token (they start 'st_')")
    keys = field_cipher(settings, _engine(settings)).keys
    if not keys.erase(args.token):
        raise CliError(f"subject {args.token} has no data key (never had sealed data, or erased)")
    print(f"subject {args.token}: data key destroyed; its sealed fields are unreadable everywhere")
    return 0


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    from hub.worker import run_worker

    if not settings.kafka_bootstrap:
        raise CliError("HUB_KAFKA_BOOTSTRAP is not set; `hub up` starts a broker and a worker")
    run_worker(settings)
    return 0


def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    import uvicorn

    from hub.api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
    )
    return 0


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    import uvicorn

    from hub.api.app import create_app
    from hub.stack import Stack

    stack = Stack(settings)
    try:
        settings = stack.start()
        uvicorn.run(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_level=settings.log_level.lower(),
        )
    finally:
        stack.stop()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from hub.demo import run_demo

    return run_demo(settings, duration=args.duration, families=args.families)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hub", description="The multi-agency safeguarding hub")
    sub = p.add_subparsers(dest="command", required=True)

    agencies = sub.add_parser("agencies", help="agency systems and their API keys")
    a_sub = agencies.add_subparsers(dest="action", required=True)
    a_add = a_sub.add_parser("add", help="register an agency system and issue its API key")
    a_add.add_argument("name", help="e.g. TEST-POLICE-A")
    a_add.add_argument("--type", required=True, help="agency type, e.g. police, idva, health_ae")
    a_add.set_defaults(func=cmd_agencies_add)

    users = sub.add_parser("users", help="people who read from the hub")
    u_sub = users.add_subparsers(dest="action", required=True)
    u_add = u_sub.add_parser("add", help="register a user and issue their API key")
    u_add.add_argument("name")
    u_add.add_argument(
        "--role",
        required=True,
        choices=["marac_chair", "marac_coordinator", "ig_officer", "admin"],
    )
    u_add.add_argument("--agency", default=None, help="the agency the user acts for")
    u_add.set_defaults(func=cmd_users_add)

    audit_cli.register(sub, _engine)

    subjects = sub.add_parser("subjects", help="people known to the hub, by subject token")
    s_sub = subjects.add_subparsers(dest="action", required=True)
    erase = s_sub.add_parser("erase", help="crypto-shred: destroy the subject's data key")
    erase.add_argument("token", help="the subject token, st_…")
    erase.set_defaults(func=cmd_subjects_erase)

    sub.add_parser("worker", help="run a stream-processing worker").set_defaults(func=cmd_worker)
    sub.add_parser("serve", help="run the API and outbox relay").set_defaults(func=cmd_serve)
    sub.add_parser("up", help="run broker (if embedded), worker and API").set_defaults(func=cmd_up)
    demo = sub.add_parser("demo", help="run the embedded stack with simulated agencies")
    demo.add_argument("--duration", type=float, default=None, help="stop after N seconds")
    demo.add_argument("--families", type=int, default=6, help="number of synthetic families")
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        logging.getLogger("httpx").setLevel(logging.WARNING)
        return int(args.func(settings, args))
    except (CliError, SettingsError) as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
