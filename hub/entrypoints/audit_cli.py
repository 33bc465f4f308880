"""`hub audit …` subcommands. Registered by hub/entrypoints/cli.py; each returns an exit code.

0: all is well. 1: the log, a proof or a checkpoint does not verify (the line says where).
2: the command could not run (unknown record, bad sizes, unreadable file, missing key); one
line on stderr says what to fix.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import Checkpoint, load_checkpoint_public_key, public_key_pem
from audit.errors import AuditError, CheckpointError
from audit.proofs import check_consistency_document, check_inclusion_document
from audit.prover import prove_consistency, prove_inclusion
from audit.publish import AUDIT_CHECKPOINTS
from audit.schema import create_audit_schema
from audit.store import SqlAuditStore
from hub.adapters.audit_wiring import (
    checkpoint_publisher,
    load_or_create_signer,
    load_signer,
    open_audit_store,
    signing_key_path,
)

EngineFactory = Callable[[Any], Any]  # Settings -> sqlalchemy Engine
Command = Callable[[Any, argparse.Namespace, EngineFactory], int]
EXPORT_FORMAT = "hub-audit-checkpoints/v1"


def register(sub: Any, engine_for: EngineFactory) -> None:
    audit = sub.add_parser("audit", help="the disclosure audit log")
    actions = audit.add_subparsers(dest="action", required=True)

    def add(name: str, command: Command, help_: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_)
        parser.set_defaults(func=functools.partial(_run, command, engine_for))
        return parser

    key_help = "PEM file of the public key checkpoints are signed with (default: the hub's)"
    p = add("verify", cmd_verify, "check chain, Merkle roots and checkpoint signatures")
    p.add_argument("--public-key", type=Path, help=key_help)
    p.add_argument(
        "--checkpoints", type=Path, help="checkpoints held outside the database (an export)"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for a log of more than 65,536 records (default: one per CPU)",
    )
    add("checkpoint", cmd_checkpoint, "sign a checkpoint at the current end of the log")
    p = add("prove", cmd_prove, "print an inclusion proof (JSON) for one record")
    p.add_argument("record_id")
    p = add("check-proof", cmd_check_proof, "check an inclusion proof file; exit 1 if it fails")
    p.add_argument("file", type=Path)
    p.add_argument("--public-key", type=Path, help=key_help)
    p = add("consistency", cmd_consistency, "print a consistency proof between two tree sizes")
    p.add_argument("old_size", type=int)
    p.add_argument("new_size", type=int)
    p = add("check-consistency", cmd_check_consistency, "check a consistency proof file")
    p.add_argument("file", type=Path)
    p.add_argument("--public-key", type=Path, help=key_help)
    p = add("export-checkpoints", cmd_export, "write every signed checkpoint to a JSON file")
    p.add_argument("file", type=Path)
    add("public-key", cmd_public_key, "print the checkpoint signing key's public half (PEM)")
    add("publish-checkpoints", cmd_publish, "send every checkpoint to Kafka again")


def _run(command: Command, engine_for: EngineFactory, settings: Any, args: Any) -> int:
    try:
        return command(settings, args, engine_for)
    except AuditError as exc:
        print(f"hub: {exc}", file=sys.stderr)
        return 2


def _store(settings: Any, engine_for: EngineFactory) -> SqlAuditStore:
    engine = engine_for(settings)
    create_audit_schema(engine)
    return SqlAuditStore(engine)


def _public_key(settings: Any, path: Path | None) -> Ed25519PublicKey:
    if path is not None:
        return load_checkpoint_public_key(path)
    signer = load_signer(signing_key_path(settings))
    if signer is None:
        raise CheckpointError(
            f"no public key to check signatures with: the hub's key {signing_key_path(settings)} "
            "does not exist; pass --public-key FILE"
        )
    return signer.public_key


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise AuditError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AuditError(f"{path} is not a JSON file: {exc}") from None


def cmd_verify(settings: Any, args: argparse.Namespace, engine_for: EngineFactory) -> int:
    store = _store(settings, engine_for)
    external: list[Checkpoint] = []
    if args.checkpoints is not None:
        doc = _read_json(args.checkpoints)
        items = doc.get("checkpoints") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise CheckpointError(f"{args.checkpoints} holds no list of checkpoints")
        external = [Checkpoint.from_dict(item) for item in items]
    key = None
    if args.public_key is not None or signing_key_path(settings).exists():
        key = _public_key(settings, args.public_key)
    elif external or store.latest_checkpoint() is not None:
        key = _public_key(settings, None)  # raises: says to pass --public-key
    result = store.verify(key, external, jobs=args.jobs)
    if result.ok:
        print(
            f"audit log verified: {result.records} records, chain whole; "
            f"{result.checkpoints} checkpoints match their Merkle roots and signatures"
        )
        return 0
    where = (
        f"checkpoint at tree size {result.bad_checkpoint}"
        if result.bad_checkpoint is not None
        else f"record {result.bad_seq} ({result.bad_record_id or 'no id'})"
    )
    print(f"audit log FAILED verification at {where}: {result.problem}", file=sys.stderr)
    return 1


def cmd_checkpoint(settings: Any, _args: argparse.Namespace, engine_for: EngineFactory) -> int:
    cp = open_audit_store(settings, engine_for(settings), publish=False).checkpoint()
    print(
        f"checkpoint at tree size {cp.tree_size}: root {cp.root_hash}, "
        f"signed {cp.time} by key {cp.key_id}"
    )
    publisher = checkpoint_publisher(settings)
    if publisher is not None:
        _send(publisher, [cp])
    return 0


def cmd_prove(settings: Any, args: argparse.Namespace, engine_for: EngineFactory) -> int:
    store = open_audit_store(settings, engine_for(settings))
    print(json.dumps(prove_inclusion(store, args.record_id), indent=2))
    return 0


def cmd_check_proof(settings: Any, args: argparse.Namespace, _engine_for: EngineFactory) -> int:
    doc = _read_json(args.file)
    problem = check_inclusion_document(doc, _public_key(settings, args.public_key))
    if problem:
        print(f"proof FAILED: {problem}", file=sys.stderr)
        return 1
    cp = doc["checkpoint"]
    print(
        f"proof verified: record {doc['record_id']} is leaf {doc['leaf_index']} of the "
        f"{doc['tree_size']} records in the checkpoint signed {cp['time']} by key {cp['key_id']}"
    )
    return 0


def cmd_consistency(settings: Any, args: argparse.Namespace, engine_for: EngineFactory) -> int:
    store = _store(settings, engine_for)
    print(json.dumps(prove_consistency(store, args.old_size, args.new_size), indent=2))
    return 0


def cmd_check_consistency(
    settings: Any, args: argparse.Namespace, _engine_for: EngineFactory
) -> int:
    doc = _read_json(args.file)
    problem, notes = check_consistency_document(doc, _public_key(settings, args.public_key))
    if problem:
        print(f"consistency proof FAILED: {problem}", file=sys.stderr)
        return 1
    print(
        f"consistency proof verified: the log of {doc['old_size']} records is a prefix of "
        f"the log of {doc['new_size']}"
    )
    for note in notes:
        print(f"note: {note}")
    return 0


def cmd_export(settings: Any, args: argparse.Namespace, engine_for: EngineFactory) -> int:
    checkpoints = _store(settings, engine_for).checkpoints()
    signer = load_signer(signing_key_path(settings))
    doc = {
        "format": EXPORT_FORMAT,
        "key_id": signer.key_id if signer else None,
        "public_key": public_key_pem(signer.public_key) if signer else None,
        "checkpoints": [cp.to_dict() for cp in checkpoints],
    }
    try:
        args.file.write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    except OSError as exc:
        raise AuditError(f"cannot write {args.file}: {exc.strerror}") from None
    print(f"exported {len(checkpoints)} checkpoints to {args.file}")
    return 0


def cmd_public_key(settings: Any, _args: argparse.Namespace, _engine_for: EngineFactory) -> int:
    print(public_key_pem(load_or_create_signer(signing_key_path(settings)).public_key), end="")
    return 0


def cmd_publish(settings: Any, _args: argparse.Namespace, engine_for: EngineFactory) -> int:
    publisher = checkpoint_publisher(settings)
    if publisher is None:
        raise AuditError("HUB_KAFKA_BOOTSTRAP is not set: say which Kafka cluster to publish to")
    checkpoints = _store(settings, engine_for).checkpoints()
    _send(publisher, checkpoints)
    print(f"published {len(checkpoints)} checkpoints to {settings.topic(AUDIT_CHECKPOINTS)}")
    return 0


def _send(publisher: Any, checkpoints: list[Checkpoint]) -> None:
    try:
        publisher.send_all(checkpoints)
    except Exception as exc:  # kafka-python raises its own tree and OSError
        raise AuditError(f"could not publish checkpoints to Kafka: {exc}") from None
