"""CLI.

python -m sandbox serve cast --port 8765
python -m sandbox truth cast --out truth.json
python -m sandbox serve webcasts --port 8766 --registrants-override 0=1000000
python -m sandbox truth webcasts --counts-only
python -m sandbox serve rev --port 8767 --big-webcast-sessions 200000
python -m sandbox truth rev --counts-only
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from .cast import DOC_API_KEY, CastAPI, CastDataset
from .faults import FAULT_KINDS, FaultConfig
from .rev import (
    add_rev_api_args,
    add_rev_dataset_args,
    add_rev_truth_args,
    rev_app_from_args,
    rev_truth_from_args,
)
from .server import SandboxServer, json_text
from .webcasts import DEFAULT_PASSWORD, DEFAULT_USERNAME, WebcastsAPI, WebcastsDataset


def _add_cast_dataset_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("dataset")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--casts", type=int, default=2, help="number of casts (ids 1940, 1941, ...)")
    g.add_argument("--campaigns", type=int, default=3, help="campaigns per cast")
    g.add_argument(
        "--events", type=int, default=40, help="events per event type per campaign (on average)"
    )
    g.add_argument(
        "--api-key",
        default=DOC_API_KEY,
        help="expected Authorization header (default: the documented sample key)",
    )
    g.add_argument("--org-slug", default="demo-org")


def _cast_dataset(a: argparse.Namespace) -> CastDataset:
    return CastDataset(
        seed=a.seed,
        casts=a.casts,
        campaigns_per_cast=a.campaigns,
        events_per_type=a.events,
        org_slug=a.org_slug,
        api_key=a.api_key,
    )


def _cast_app(a: argparse.Namespace) -> CastAPI:
    api = CastAPI(_cast_dataset(a))
    api.event_order = a.event_order
    api.gone_generations = set(a.gone or ())
    api.max_page_size = a.max_page_size
    return api


def _add_cast_api_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("cast api")
    g.add_argument("--event-order", choices=("newest_first", "shuffled"), default="newest_first")
    g.add_argument(
        "--gone",
        action="append",
        metavar="GENERATION_ID",
        help="generation id still listed but whose analytics endpoints 404 (repeatable)",
    )
    g.add_argument(
        "--max-page-size", type=int, default=None, help="clamp page_size (default: no cap)"
    )


def _override(text: str) -> tuple[int, int]:
    key, sep, n = text.partition("=")
    try:
        if not sep:
            raise ValueError(text)
        return int(key), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected EI=N or INDEX=N, got {text!r}") from None


def _add_webcasts_dataset_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("dataset")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--events", type=int, default=4, help="number of events (7-digit ids)")
    g.add_argument("--registrants", type=int, default=50, help="registrants per event")
    g.add_argument(
        "--expired-events", type=int, default=1, help="how many of the oldest events are expired"
    )
    g.add_argument(
        "--registrants-override",
        type=_override,
        action="append",
        metavar="EI=N",
        help="registrants of one event, by event id or 0-based index (repeatable), e.g. 0=1000000",
    )
    g.add_argument("--username", default=DEFAULT_USERNAME)
    g.add_argument("--password", default=DEFAULT_PASSWORD)


def _webcasts_dataset(a: argparse.Namespace) -> WebcastsDataset:
    return WebcastsDataset(
        seed=a.seed,
        events=a.events,
        registrants_per_event=a.registrants,
        username=a.username,
        password=a.password,
        expired_events=a.expired_events,
        registrants_overrides=dict(a.registrants_override or ()),
    )


def _add_webcasts_api_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("webcasts api")
    g.add_argument("--session-ttl-seconds", type=float, default=7200)
    g.add_argument(
        "--session-max-calls",
        type=int,
        default=None,
        help="reporting calls per login before the session expires (default: unlimited)",
    )
    g.add_argument(
        "--single-session", action="store_true", help="a new login invalidates earlier sessions"
    )
    g.add_argument(
        "--json-no-collapse",
        action="store_true",
        help="JSON lists are always arrays (default: 1-element lists collapse to an object, "
        'empty ones to "")',
    )
    g.add_argument(
        "--json-numbers", action="store_true", help="JSON numbers as numbers (default: strings)"
    )
    g.add_argument(
        "--no-stream", action="store_true", help="send reports with Content-Length, not chunked"
    )
    g.add_argument("--csv-bom", action="store_true", help="start CSV reports with a UTF-8 BOM")
    for flag, what in (
        ("--malformed-xml", "XML report truncated mid-document"),
        ("--entity-expansion", "XML report with a billion-laughs DOCTYPE"),
        ("--external-entity", "XML report with an external entity (file:///etc/passwd)"),
    ):
        g.add_argument(flag, type=int, action="append", metavar="EI", help=f"{what} (repeatable)")


def _webcasts_app(a: argparse.Namespace) -> WebcastsAPI:
    api = WebcastsAPI(
        _webcasts_dataset(a),
        session_ttl_seconds=a.session_ttl_seconds,
        session_max_calls=a.session_max_calls,
    )
    api.single_session = a.single_session
    api.json_collapse_single_lists = not a.json_no_collapse
    api.json_numbers_as_strings = not a.json_numbers
    api.stream_responses = not a.no_stream
    api.csv_bom = a.csv_bom
    api.malformed_xml_for = set(a.malformed_xml or ())
    api.entity_expansion_for = set(a.entity_expansion or ())
    api.external_entity_for = set(a.external_entity or ())
    return api


def _webcasts_truth(a: argparse.Namespace) -> dict:
    ds = _webcasts_dataset(a)
    return ds.expected_counts() if a.counts_only else ds.ground_truth()


def _add_webcasts_truth_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--counts-only",
        action="store_true",
        help="only the counts (cheap for any size; ground truth refuses > 200,000 registrants)",
    )


# vendor -> (add dataset args, add serve-only args, build app, build ground truth)
VENDORS: dict[
    str, tuple[Callable[..., None], Callable[..., None], Callable[..., Any], Callable[..., dict]]
] = {
    "cast": (
        _add_cast_dataset_args,
        _add_cast_api_args,
        _cast_app,
        lambda a: _cast_dataset(a).ground_truth(),
    ),
    "webcasts": (
        _add_webcasts_dataset_args,
        _add_webcasts_api_args,
        _webcasts_app,
        _webcasts_truth,
    ),
    "rev": (add_rev_dataset_args, add_rev_api_args, rev_app_from_args, rev_truth_from_args),
}
# vendor -> add truth-only args (optional)
TRUTH_ARGS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "webcasts": _add_webcasts_truth_args,
    "rev": add_rev_truth_args,
}


def _add_server_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("server & faults")
    g.add_argument("--host", default="127.0.0.1")
    g.add_argument("--port", type=int, default=8765, help="0 = any free port")
    g.add_argument("--latency-ms", type=float, default=0.0)
    g.add_argument(
        "--fault-rate", type=float, default=0.0, help="probability of a random fault per request"
    )
    g.add_argument(
        "--fault-kinds",
        default="429,500,502,503,drop,truncate",
        help=f"comma-separated pool for random faults, from: {','.join(FAULT_KINDS)}",
    )
    g.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After seconds of the 429 fault"
    )
    g.add_argument("--slow-seconds", type=float, default=5.0)
    g.add_argument("--fault-seed", type=int, default=0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Local vendor API simulators."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a simulator until SIGINT/SIGTERM")
    serve_sub = serve.add_subparsers(dest="vendor", required=True)
    truth = sub.add_parser("truth", help="write the ground truth JSON of a dataset")
    truth_sub = truth.add_subparsers(dest="vendor", required=True)
    for name, (add_data, add_api, _, _) in VENDORS.items():
        sp = serve_sub.add_parser(name)
        _add_server_args(sp)
        add_data(sp)
        add_api(sp)
        tp = truth_sub.add_parser(name)
        add_data(tp)
        if name in TRUTH_ARGS:
            TRUTH_ARGS[name](tp)
        tp.add_argument("--out", help="output file (default: stdout)")
        tp.add_argument("--indent", type=int, default=None)
    return parser


def _serve(a: argparse.Namespace) -> int:
    app = VENDORS[a.vendor][2](a)
    kinds = tuple(k for k in a.fault_kinds.split(",") if k)
    faults = FaultConfig(
        latency_ms=a.latency_ms,
        rate=a.fault_rate,
        kinds=kinds,
        retry_after=a.retry_after,
        slow_seconds=a.slow_seconds,
        seed=a.fault_seed,
    )
    server = SandboxServer(app, host=a.host, port=a.port, faults=faults).start()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    host = f"[{a.host}]" if ":" in a.host else a.host
    print(f"{a.vendor} sandbox listening on http://{host}:{server.port}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _truth(a: argparse.Namespace) -> int:
    truth = VENDORS[a.vendor][3](a)
    text = json_text(truth, indent=a.indent) + "\n"
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    try:
        return _serve(a) if a.command == "serve" else _truth(a)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
