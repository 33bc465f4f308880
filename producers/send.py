"""`hub-send`: send a file of events to the hub, over HTTP (batches) or straight to Kafka.

    hub-send events.ndjson                                  # HUB_URL, HUB_API_KEY
    hub-send export.csv --format police-incidents --agency TEST-POLICE-A
    hub-send events.ndjson --via kafka --agency TEST-POLICE-A --signing-key agency.pem \
        --ingress-key hub-ingress.pem                       # from `hub ingress-key`

A progress bar goes to stderr, the summary to stdout, each rejected event (line, id, reason,
field paths; never its contents) to the rejections file. Exit 0 when nothing was rejected,
1 when something was, 2 (with one line on stderr) when the command could not do its job.
Sending a file again is safe: events keep their ids and the hub stores each id once.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from producers.adapters import ADAPTERS, Context, Mapped, RowProblem, read_csv
from producers.progress import Progress
from producers.results import HubSendError, SendResult

FORMATS = ("ndjson", *ADAPTERS)


class UsageError(Exception):
    """The command was asked something it cannot do; the message is the one line shown."""


@dataclass(frozen=True)
class Item:
    line: int
    event: dict[str, Any] | bytes


def read_ndjson(path: Path) -> Iterator[Item]:
    """One item per non-blank line; a line that is not a JSON object is sent as it is, so the
    hub names what is wrong with it."""
    with path.open("rb") as f:
        for line, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                decoded = json.loads(raw)
            except (ValueError, RecursionError):
                decoded = None
            yield Item(line, decoded if isinstance(decoded, dict) else raw.rstrip(b"\r\n"))


def read_items(args: argparse.Namespace) -> tuple[list[Item], list[dict[str, Any]]]:
    """The events to send, and the rows an adapter could not map (already rejected)."""
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path} is not a file")
    try:
        return _read(path, args)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def _read(path: Path, args: argparse.Namespace) -> tuple[list[Item], list[dict[str, Any]]]:
    if args.format == "ndjson":
        return list(read_ndjson(path)), []
    agency = args.agency or "UNKNOWN-AGENCY"
    ctx = Context(agency, args.source or f"urn:hub:agency:{agency}/{args.format}")
    items, problems = [], []
    for mapped in read_csv(path, ADAPTERS[args.format], ctx):
        if isinstance(mapped, RowProblem):
            error = mapped.as_error()
            problems.append(
                {"line": mapped.line, "id": None, "reason": "unmappable", "errors": [error]}
            )
        elif isinstance(mapped, Mapped):
            items += [Item(mapped.line, event) for event in mapped.events]
    return items, problems


def _secret(env: Mapping[str, str], name: str, file: str | None) -> str | None:
    if file:
        try:
            return Path(file).read_text().strip()
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror}") from None
    return env.get(name) or None


def open_sender(args: argparse.Namespace, env: Mapping[str, str]) -> Any:
    """A HubClient or a KafkaHubProducer, from the options and the environment."""
    if args.via == "http":
        from producers.http_client import HubClient

        key = _secret(env, "HUB_API_KEY", args.api_key_file)
        if not key:
            raise UsageError("give the agency's API key in HUB_API_KEY or --api-key-file")
        url = args.url or env.get("HUB_URL") or "http://127.0.0.1:8000"
        return HubClient(url, key, retries=args.retries)
    from hub.contract.signing import SigningKeyError, load_private_key
    from producers.kafka_producer import KafkaHubProducer

    bootstrap = args.bootstrap or env.get("HUB_KAFKA_BOOTSTRAP")
    key_file = args.signing_key or env.get("HUB_SIGNING_KEY")
    if not (bootstrap and args.agency and key_file):
        raise UsageError(
            "--via kafka needs --bootstrap (or HUB_KAFKA_BOOTSTRAP), --agency and "
            "--signing-key (or HUB_SIGNING_KEY)"
        )
    try:
        private = load_private_key(Path(key_file).read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {key_file}: {exc.strerror}") from None
    except SigningKeyError as exc:
        raise UsageError(f"{key_file}: {exc}") from None
    topic = args.topic or f"{env.get('HUB_TOPIC_PREFIX', '')}hub.ingress.raw"
    embedded = args.embedded_broker or env.get("HUB_EMBEDDED_BROKER") == "1"
    return KafkaHubProducer(
        bootstrap,
        args.agency,
        private,
        topic=topic,
        mode=args.mode,
        embedded_broker=embedded,
        seal_to=None if args.plaintext else _ingress_key(args, env),
    )


def _ingress_key(args: argparse.Namespace, env: Mapping[str, str]) -> bytes:
    """The hub's ingress public key that Kafka-direct events are sealed to."""
    from hub.contract.sealing import SealError, load_ingress_public_key

    key_file = args.ingress_key or env.get("HUB_INGRESS_KEY")
    if not key_file:
        raise UsageError(
            "--via kafka seals events to the hub's ingress key: give --ingress-key (or "
            "HUB_INGRESS_KEY), the PEM file `hub ingress-key` prints; --plaintext only where "
            "your area accepts unsealed events"
        )
    try:
        return load_ingress_public_key(Path(key_file).read_bytes())
    except OSError as exc:
        raise UsageError(f"cannot read {key_file}: {exc.strerror}") from None
    except SealError as exc:
        raise UsageError(f"{key_file}: {exc}") from None


def send_all(sender: Any, items: list[Item], batch: int, progress: Progress) -> list[SendResult]:
    results: list[SendResult] = []
    try:
        for start in range(0, len(items), batch):
            chunk = items[start : start + batch]
            results += sender.send_many([i.event for i in chunk], batch_size=batch)
            progress.advance(len(chunk))
    except HubSendError as exc:
        raise UsageError(
            f"{exc} ({len(results)} of {len(items)} events were sent before this; "
            "sending the file again is safe)"
        ) from None
    finally:
        progress.finish()
    return results


def write_rejections(path: Path, rejections: list[dict[str, Any]]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # names ids, not people
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        for entry in rejections:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def summary(
    args: argparse.Namespace,
    items: list[Item],
    results: list[SendResult],
    rejections: list[dict[str, Any]],
    where: Path | None,
) -> str:
    counts = Counter(r.status for r in results)
    reasons = Counter(r["reason"] for r in rejections)
    if args.format == "ndjson":
        parts = [f"{len(items)} events read", f"{len(results)} sent"]
    else:  # a row may carry more than one event; a row that could not be mapped carries none
        rows = len({i.line for i in items} | {r["line"] for r in rejections})
        parts = [f"{rows} rows read", f"{len(results)} events sent"]
    if args.via == "http":
        parts += [f"{counts['accepted']} accepted", f"{counts['duplicate']} duplicate"]
    parts.append(f"{len(rejections)} rejected")
    text = "hub-send: " + ", ".join(parts)
    if reasons:
        text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) + ")"
    if where is not None:
        text += f"; rejections in {where}"
    if args.via == "kafka":
        text += (
            "; the hub checks Kafka messages as they arrive: refusals go to hub.ingress.rejected"
        )
    return text


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    items, rejections = read_items(args)
    sender = open_sender(args, env)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        results = send_all(sender, items, args.batch_size, Progress(len(items), sys.stderr, show))
    finally:
        sender.close()
    for item, result in zip(items, results, strict=True):
        if result.rejected:
            rejections.append({"line": item.line, **result.to_json()})
    rejections.sort(key=lambda r: r["line"])
    where = None
    if rejections:
        where = Path(args.rejections or f"{args.file}.rejected.ndjson")
        write_rejections(where, rejections)
    print(summary(args, items, results, rejections, where))
    return 1 if rejections else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hub-send", description=__doc__.splitlines()[0] if __doc__ else None
    )
    p.add_argument("file", help="NDJSON events, or a CSV export with --format")
    p.add_argument("--format", choices=FORMATS, help="default: from the file name (.ndjson)")
    p.add_argument("--via", choices=("http", "kafka"), default="http")
    p.add_argument("--agency", help="your agency id (the CSV source; who signs on Kafka)")
    p.add_argument("--source", help="CloudEvents source for CSV rows (default from --agency)")
    p.add_argument("--url", help="the hub's base URL (default HUB_URL or http://127.0.0.1:8000)")
    p.add_argument("--api-key-file", help="file holding the API key (default: HUB_API_KEY)")
    p.add_argument("--retries", type=int, default=5, help="HTTP retries per request")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default HUB_KAFKA_BOOTSTRAP)")
    p.add_argument("--signing-key", help="Ed25519 private key, PEM (default HUB_SIGNING_KEY)")
    p.add_argument(
        "--ingress-key", help="the hub's ingress public key, PEM (default HUB_INGRESS_KEY)"
    )
    p.add_argument(
        "--plaintext", action="store_true", help="do not seal (only if your area accepts it)"
    )
    p.add_argument("--topic", help="default hub.ingress.raw")
    p.add_argument("--mode", choices=("binary", "structured"), default="binary")
    p.add_argument("--embedded-broker", action="store_true", help="the hub's own broker (Tansu)")
    p.add_argument("--batch-size", type=int, default=500, help="events per request (max 1000)")
    p.add_argument("--rejections", help="where to write rejections (default FILE.rejected.ndjson)")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    return p


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = os.environ if env is None else env
    try:
        if args.format is None:
            if not args.file.lower().endswith((".ndjson", ".jsonl", ".json")):
                raise UsageError("say what the file holds: --format " + " | ".join(FORMATS))
            args.format = "ndjson"
        if not 1 <= args.batch_size <= 1000:
            raise UsageError("--batch-size is 1 to 1000")
        return run(args, env)
    except (UsageError, HubSendError) as exc:
        print(f"hub-send: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
