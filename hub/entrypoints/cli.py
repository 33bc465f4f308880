"""The `hub` command. Errors end with exit code 2 and one line saying what was wrong."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from consent.policy import PolicyError
from hub.domain.agencies import load_agency_types
from hub.domain.areas import AreaSettingsError
from hub.entrypoints import admin_cli, audit_cli, failed_cli, ig_cli, reports_cli
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


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


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
    from consent.policy import PolicyError, load_policy
    from hub.contract import EVENT_TYPES
    from hub.services.admin_views import explain_policy
    from hub.services.errors import Unusable

    try:
        text = settings.sharing_policy_file.read_text() if settings.sharing_policy_file else None
        policy = load_policy(text, EVENT_TYPES, load_agency_types())
        print(explain_policy(policy, args.role, args.event, args.purpose, args.own_agency))
    except (PolicyError, Unusable) as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_rules_show(settings: Settings, args: argparse.Namespace) -> int:
    """Print which rules exist, in plain words, and the settings in force per Marac area
    (inherited ones marked)."""
    from hub.adapters.rules_file import load_area_book
    from hub.domain.areas import AreaSettingsError, describe
    from hub.domain.rules.catalogue import describe_rules

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
    shown = book.get(args.area) if args.area else book.default
    print(f"# the rules, and the settings each reads in [{shown.name}]")
    print("\n".join(describe_rules(shown, book.default)))
    print()
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
    from hub.pipeline.replay_fold import default_jobs

    engine = _engine(settings)
    if args.refill:
        print(f"{refill(engine)} stored events queued for publishing again (the relay sends them)")
        return 0
    before = state_digest(engine)
    jobs = 1 if args.jobs is None else min(args.jobs, default_jobs())  # never more than the CPUs
    result = rebuild(engine, load_area_book(settings), jobs=jobs)
    after = state_digest(engine)
    rate = result.events / result.seconds if result.seconds else 0.0
    print(
        f"replayed {result.events} events in {result.seconds:.1f} s ({rate:,.0f}/s, "
        f"{jobs} fold process{'es' if jobs > 1 else ''}): "
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

    admin_cli.register(sub, CliError)
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
    replay.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="processes that fold families (default 1: all in this process; linking stays in "
        "one process and is most of the work, so more helped nothing on 2 cores). The read "
        "models are the same whatever N; at most the CPUs this process may use",
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
