"""The `hub` command. Errors end with exit code 2 and one line saying what was wrong."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from consent.policy import PolicyError
from hub.domain.agencies import load_agency_types
from hub.domain.areas import AreaSettingsError
from hub.entrypoints import audit_cli, failed_cli, ig_cli, reports_cli
from hub.entrypoints.logs import (
    configure_console,
    dict_config,
    logging_to_file,
    uvicorn_log_config,
)
from hub.settings import Settings, SettingsError, load_settings

# Open alert streams (server-sent events) never end by themselves: on shutdown the API waits
# this long for other requests, then ends the streams (clients reconnect with Last-Event-ID).
STREAM_SHUTDOWN_GRACE_SECONDS = 5


class CliError(Exception):
    """A command cannot go on; the message is the one line shown."""


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from hub.adapters.sql.db import create_schema, make_engine

    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    return engine


def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    """Apply the schema migrations the database lacks (every process also does at start)."""
    from hub.adapters.sql.db import create_schema, make_engine, schema_revision

    engine = make_engine(settings.effective_database_url)
    before = schema_revision(engine)
    create_schema(engine)
    after = schema_revision(engine)
    engine.dispose()
    print(f"database at migration {after}" + ("" if before == after else f" (was {before})"))
    return 0


def cmd_agencies_add(settings: Settings, args: argparse.Namespace) -> int:
    from hub.adapters.sql.principals import PrincipalError, SqlPrincipalStore

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
    print(f"To send straight to Kafka, give it a signing key: hub agencies signing-key {args.name}")
    return 0


def cmd_agencies_signing_key(settings: Settings, args: argparse.Namespace) -> int:
    """Register (or generate, or revoke) an agency system's Ed25519 key for Kafka-direct."""
    import os
    from pathlib import Path

    from hub.adapters.sql.principals import PrincipalError, SqlPrincipalStore
    from hub.contract import signing

    store = SqlPrincipalStore(_engine(settings))
    if args.revoke:
        if not store.revoke_signing_key(args.name, args.revoke):
            raise CliError(f"agency {args.name} has no active signing key {args.revoke}")
        print(f"signing key {args.revoke} of {args.name} revoked")
        return 0
    out = Path(args.private_key_out) if args.private_key_out else None
    if out is not None and (args.public_key or out.exists()):
        raise CliError(f"{out} exists, or --public-key was given too; choose a new file")
    private_pem = None
    try:
        if args.public_key:
            public = signing.load_signing_public_key(Path(args.public_key).read_bytes())
        else:
            private = signing.generate_private_key()
            private_pem, public = signing.private_key_pem(private), signing.raw_public_key(private)
        store.add_signing_key(args.name, signing.signing_key_id(public), public)
        if private_pem is not None and out is not None:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(private_pem)
    except (OSError, signing.SigningKeyError, PrincipalError) as exc:
        raise CliError(str(exc)) from None
    print(f"signing key {signing.signing_key_id(public)} registered for {args.name}")
    if out is not None:
        print(f"its private key is in {out} (mode 0600); hand it to the agency's system")
    elif private_pem is not None:
        print("Its private key, shown once (the hub keeps only the public half):")
        print(private_pem.decode(), end="")
    return 0


def cmd_users_add(settings: Settings, args: argparse.Namespace) -> int:
    from consent.policy import MARAC_ROLES, PERSON_ROLES
    from hub.adapters.sql.principals import PrincipalError, SqlPrincipalStore

    agency_types = load_agency_types()
    if args.role not in PERSON_ROLES and args.role not in agency_types:
        known = ", ".join([*sorted(PERSON_ROLES), *agency_types])
        raise CliError(f"unknown role {args.role!r}; choose one of: {known}")
    if args.role in agency_types and not args.agency:
        raise CliError(f"a {args.role} practitioner acts for an agency: give --agency NAME")
    if args.area is not None and args.role not in MARAC_ROLES:
        raise CliError("--area is for Marac chairs and coordinators (their alerts and agenda)")
    try:
        _p, key = SqlPrincipalStore(_engine(settings)).add(
            args.name, "person", args.role, agency_id=args.agency, area=args.area
        )
    except PrincipalError as exc:
        raise CliError(str(exc)) from None
    where = f" for Marac area {args.area}" if args.area else ""
    if args.password_prompt:
        _set_password(settings, args.name)
    print(f"user {args.name} ({args.role}){where} added. Their API key, shown once:")
    print(key)
    return 0


def _set_password(settings: Settings, name: str) -> None:
    import getpass

    from hub.adapters.sql.logins import SqlLoginStore

    password = getpass.getpass(f"new password for {name}: ")
    if len(password) < 12:
        raise CliError("choose a password of at least 12 characters")
    if getpass.getpass("the same again: ") != password:
        raise CliError("the two passwords differ; nothing changed")
    if not SqlLoginStore(_engine(settings)).set_password(name, password):
        raise CliError(f"no user named {name!r}; add them with `hub users add`")


def cmd_users_set_password(settings: Settings, args: argparse.Namespace) -> int:
    _set_password(settings, args.name)
    print(f"password set for {args.name}; they log in at the hub's web address")
    return 0


def cmd_subjects_erase(settings: Settings, args: argparse.Namespace) -> int:
    from hub.bootstrap import field_cipher

    if not args.token.startswith("st_"):
        raise CliError(f"{args.token!r} is not a subject token (they start 'st_')")
    keys = field_cipher(settings, _engine(settings)).keys
    if not keys.erase(args.token):
        raise CliError(f"subject {args.token} has no data key (never had sealed data, or erased)")
    print(f"subject {args.token}: data key destroyed; its sealed fields are unreadable everywhere")
    return 0


def cmd_policy_explain(settings: Settings, args: argparse.Namespace) -> int:
    from consent.decision import Item
    from consent.explain import explain
    from consent.policy import PolicyError, load_policy
    from hub.contract import EVENT_TYPES
    from hub.services.disclosure import data_fields_of

    if args.event not in EVENT_TYPES:
        raise CliError(
            f"unknown event type {args.event!r}; choose one of: {', '.join(EVENT_TYPES)}"
        )
    try:
        text = settings.sharing_policy_file.read_text() if settings.sharing_policy_file else None
        policy = load_policy(text, EVENT_TYPES, load_agency_types())
    except PolicyError as exc:
        raise CliError(str(exc)) from None
    fields, sealed = data_fields_of(args.event)
    item = Item("(example)", args.event, "(holding agency)", (), None, None, fields, sealed)
    print(explain(policy, item, args.role, args.purpose, args.own_agency))
    return 0


def cmd_rules_show(settings: Settings, args: argparse.Namespace) -> int:
    """Print the rule settings in force per Marac area (inherited ones marked)."""
    from hub.adapters.rules_file import load_area_book
    from hub.domain.areas import AreaSettingsError, describe

    try:
        book = load_area_book(settings)
    except AreaSettingsError as exc:
        raise CliError(str(exc)) from None
    names = book.names()
    if args.area is not None and args.area not in names:
        raise CliError(
            f"no area {args.area!r} in the rules file; its areas: {', '.join(names)} "
            "(an area not listed there gets the [default] settings)"
        )
    source = settings.rules_file or "the packaged hub/data/areas.toml"
    print(f"# rule settings in force, from {source}")
    for name in [args.area] if args.area else names:
        print()
        print("\n".join(describe(book.get(name), book.default)))
    return 0


def cmd_ingress_key(settings: Settings, _args: argparse.Namespace) -> int:
    """Print the hub's ingress public key (PEM): agencies seal Kafka-direct events to it."""
    from hub.adapters.crypto.keys import load_ingress_key
    from hub.contract.sealing import ingress_public_key_pem

    print(ingress_public_key_pem(load_ingress_key(settings.effective_key_dir)).decode(), end="")
    return 0


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from hub.adapters.rules_file import load_area_book
    from hub.pipeline.replay import rebuild, refill, state_digest

    engine = _engine(settings)
    if args.refill:
        print(f"{refill(engine)} stored events queued for publishing again (the relay sends them)")
        return 0
    before = state_digest(engine)
    result = rebuild(engine, load_area_book(settings))
    after = state_digest(engine)
    rate = result.events / result.seconds if result.seconds else 0.0
    print(
        f"replayed {result.events} events in {result.seconds:.1f} s ({rate:,.0f}/s): "
        f"{result.families} families, {result.alerts} alerts; read models "
        f"{'unchanged' if before == after else 'CHANGED'} (digest {after[:16]})"
    )
    if result.failed:
        raise CliError(
            f"{result.failed} events could not be applied and were set apart; see `hub failed list`"
        )
    return 0


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    from hub.bootstrap import build_services, kafka_ingress
    from hub.pipeline.worker import run_worker

    if not settings.kafka_bootstrap:
        raise CliError("HUB_KAFKA_BOOTSTRAP is not set; `hub up` starts a broker and a worker")
    # the same keys, cipher and agency types as the API, from the one composition root
    run_worker(
        settings,
        kafka_ingress(build_services(settings)),
        dict_config(settings.log_level, settings.log_format),
    )
    return 0


def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    import uvicorn

    from hub.entrypoints.api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        log_config=uvicorn_log_config(settings.log_format),
        timeout_graceful_shutdown=STREAM_SHUTDOWN_GRACE_SECONDS,
    )
    return 0


class _Terminated(Exception):
    """SIGTERM reached `hub up`: stop as Ctrl-C does."""


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise _Terminated


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    """Broker, worker and API, supervised; SIGTERM and Ctrl-C stop them in order (API,
    worker, broker), and SIGTERM ends with exit code 0."""
    import signal

    import uvicorn

    from hub.entrypoints.api.app import create_app
    from hub.entrypoints.stack import Stack

    # uvicorn turns SIGTERM into a graceful stop, then raises it again under the handler found
    # at its start: with the default one the process died there, skipping the stop below.
    signal.signal(signal.SIGTERM, _raise_terminated)
    stack = Stack(settings)
    with logging_to_file(settings.data_dir, settings.log_format) as log_file:
        print(f"hub: full log (Kafka clients included) in {log_file}")
        try:
            settings = stack.start()
            app = create_app(settings)
            relay = app.state.services.relay
            stack.supervise(on_broker_reset=relay.request_refill if relay is not None else None)
            uvicorn.run(
                app,
                host=settings.api_host,
                port=settings.api_port,
                log_level=settings.log_level.lower(),
                log_config=uvicorn_log_config(settings.log_format),
                timeout_graceful_shutdown=STREAM_SHUTDOWN_GRACE_SECONDS,
            )
        except _Terminated:
            pass
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the stop
            stack.stop()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from hub.entrypoints.demo import run_demo

    return run_demo(settings, duration=args.duration, families=args.families, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hub", description="The multi-agency safeguarding hub")
    sub = p.add_subparsers(dest="command", required=True)

    agencies = sub.add_parser("agencies", help="agency systems and their API keys")
    a_sub = agencies.add_subparsers(dest="action", required=True)
    a_add = a_sub.add_parser("add", help="register an agency system and issue its API key")
    a_add.add_argument("name", help="e.g. TEST-POLICE-A")
    a_add.add_argument("--type", required=True, help="agency type, e.g. police, idva, health_ae")
    a_add.set_defaults(func=cmd_agencies_add)
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
    a_key.set_defaults(func=cmd_agencies_signing_key)

    users = sub.add_parser("users", help="people who read from the hub")
    u_sub = users.add_subparsers(dest="action", required=True)
    u_add = u_sub.add_parser("add", help="register a user and issue their API key")
    u_add.add_argument("name")
    u_add.add_argument(
        "--role",
        required=True,
        help="marac_chair, marac_coordinator, ig_officer, admin, or a practitioner's agency "
        "type (police, gp, idva, …; needs --agency)",
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
    u_add.set_defaults(func=cmd_users_add)
    u_pw = u_sub.add_parser("set-password", help="set a user's web password (clears a lock-out)")
    u_pw.add_argument("name")
    u_pw.set_defaults(func=cmd_users_set_password)

    audit_cli.register(sub, _engine)
    ig_cli.register(sub, _engine)
    reports_cli.register(sub, _engine, CliError)
    failed_cli.register(sub, _engine, CliError)

    db = sub.add_parser("db", help="the hub's database")
    d_sub = db.add_subparsers(dest="action", required=True)
    d_up = d_sub.add_parser("upgrade", help="apply the schema migrations it lacks (Alembic)")
    d_up.set_defaults(func=cmd_db_upgrade)

    policy = sub.add_parser("policy", help="the sharing policy")
    p_sub = policy.add_subparsers(dest="action", required=True)
    p_explain = p_sub.add_parser("explain", help="what a role sees of an event type, and why")
    p_explain.add_argument("--role", required=True, help="e.g. gp, marac_chair, police")
    p_explain.add_argument("--event", required=True, help="e.g. police.incident")
    p_explain.add_argument("--purpose", default="marac_case_preparation")
    p_explain.add_argument("--own-agency", action="store_true", help="the reader's agency sent it")
    p_explain.set_defaults(func=cmd_policy_explain)

    subjects = sub.add_parser("subjects", help="people known to the hub, by subject token")
    s_sub = subjects.add_subparsers(dest="action", required=True)
    erase = s_sub.add_parser("erase", help="crypto-shred: destroy the subject's data key")
    erase.add_argument("token", help="the subject token, st_…")
    erase.set_defaults(func=cmd_subjects_erase)

    rules = sub.add_parser("rules", help="the alert rules' settings per Marac area")
    r_sub = rules.add_subparsers(dest="action", required=True)
    r_show = r_sub.add_parser("show", help="print the settings in force (HUB_RULES_FILE)")
    r_show.add_argument("--area", default=None, help="one Marac area (default: every area)")
    r_show.set_defaults(func=cmd_rules_show)

    replay = sub.add_parser(
        "replay", help="rebuild every projection and alert from the event store"
    )
    replay.add_argument(
        "--refill",
        action="store_true",
        help="instead, republish every stored event to Kafka (a new or emptied broker)",
    )
    replay.set_defaults(func=cmd_replay)
    sub.add_parser(
        "ingress-key", help="print the public key agencies seal Kafka-direct events to (PEM)"
    ).set_defaults(func=cmd_ingress_key)
    sub.add_parser("worker", help="run a stream-processing worker").set_defaults(func=cmd_worker)
    sub.add_parser("serve", help="run the API and outbox relay").set_defaults(func=cmd_serve)
    sub.add_parser("up", help="run broker (if embedded), worker and API").set_defaults(func=cmd_up)
    demo = sub.add_parser("demo", help="run the embedded stack with simulated agencies")
    demo.add_argument("--duration", type=float, default=None, help="stop after N seconds")
    demo.add_argument("--families", type=int, default=6, help="number of synthetic families")
    demo.add_argument(
        "--seed", type=int, default=None, help="the same simulated events every run (default: new)"
    )
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_console(settings.log_level, settings.log_format)
        return int(args.func(settings, args))
    except (CliError, SettingsError, PolicyError, AreaSettingsError) as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hub: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
