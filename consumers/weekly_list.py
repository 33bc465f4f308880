"""Prints the weekly central list of a Marac area: the most vulnerable victims and the most
dangerous perpetrators, each with the factors that ranked them (docs/reports.md).

    HUB_API_KEY=hubk_… python -m consumers.weekly_list --url http://127.0.0.1:8000 \\
        --area TEST-AREA [--week 2026-W10]

It reads ``GET /v1/reports/central-list`` with a Marac chair's or coordinator's key, so the
policy point decides and the read is audited; names are shown as the API gives them. The key
is read from the environment, never from the command line (where other users could see it).
`hub reports central-list` prints the same layout on the hub host, with tokens only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx


def _who(row: Mapping[str, Any], names: Mapping[str, Mapping[str, Any]]) -> str:
    token = str(row["token"])
    known = names.get(token, {})
    name = known.get("name")
    return f"{name} ({token[:12]}…)" if name else f"{token[:12]}…"


def _rows(title: str, rows: Sequence[Mapping[str, Any]], names: Mapping[str, Any]) -> list[str]:
    out = [title]
    if not rows:
        out.append("  (nobody in the window)")
    for r in rows:
        new = "  NEW THIS WEEK" if r.get("new_this_week") else ""
        out.append(
            f"  {r['rank']:>2}. {_who(r, names)}  family {str(r['family_id'])[:12]}…  "
            f"{r['points']} points{new}"
        )
        out += [f"        +{f['points']:<3} {f['factor']}: {f['detail']}" for f in r["factors"]]
    return out


def format_central_list(
    report: Mapping[str, Any], names: Mapping[str, Mapping[str, Any]] | None = None
) -> str:
    """The list as text: a header, then victims and perpetrators with their factors."""
    names = names or {}
    head = (
        f"Central list: {report['area']}, week {report['week']} "
        f"({str(report['start'])[:10]} to {str(report['end'])[:10]}, end exclusive), "
        f"{report['families']} families, window {report['window']}"
    )
    lines = [head, ""]
    lines += _rows("Most vulnerable victims", report["victims"], names)
    lines.append("")
    lines += _rows("Most dangerous perpetrators", report["perpetrators"], names)
    return "\n".join(lines)


def fetch_central_list(
    client: httpx.Client, key: str, area: str | None, week: str | None
) -> dict[str, Any]:
    params = {k: v for k, v in (("area", area), ("week", week)) if v}
    r = client.get(
        "/v1/reports/central-list", params=params, headers={"Authorization": f"Bearer {key}"}
    )
    if r.status_code != 200:
        detail = r.json().get("detail") if r.headers.get("content-type", "").startswith(
            "application/json"
        ) else r.text  # fmt: skip
        raise RuntimeError(f"the hub answered {r.status_code}: {detail}")
    body: dict[str, Any] = r.json()
    return body


def main(argv: Sequence[str] | None = None, emit: Callable[[str], None] = print) -> int:
    p = argparse.ArgumentParser(prog="weekly_list", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the hub's API")
    p.add_argument("--area", help="the Marac area (yours, if your key is bound to one)")
    p.add_argument("--week", help="ISO week (2026-W10) or a date in it; default this week")
    args = p.parse_args(argv)
    key = os.environ.get("HUB_API_KEY")
    if not key:
        print("weekly_list: set HUB_API_KEY to a Marac chair's or coordinator's key",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        with httpx.Client(base_url=args.url, timeout=60) as client:
            body = fetch_central_list(client, key, args.area, args.week)
    except (httpx.HTTPError, RuntimeError) as exc:
        print(f"weekly_list: {exc}", file=sys.stderr)
        return 2
    emit(format_central_list(body["report"], body["names"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
