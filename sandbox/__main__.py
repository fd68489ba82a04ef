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


def _add_cast_dataset_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dataset")
    group.add_argument("--seed", type=int, default=7)
    group.add_argument("--casts", type=int, default=2, help="number of casts (ids 1940, 1941, ...)")
    group.add_argument("--campaigns", type=int, default=3, help="campaigns per cast")
    group.add_argument(
        "--events", type=int, default=40, help="events per event type per campaign (on average)"
    )
    group.add_argument(
        "--api-key",
        default=DOC_API_KEY,
        help="expected Authorization header (default: the documented sample key)",
    )
    group.add_argument("--org-slug", default="demo-org")


def _cast_dataset(args: argparse.Namespace) -> CastDataset:
    return CastDataset(
        seed=args.seed,
        casts=args.casts,
        campaigns_per_cast=args.campaigns,
        events_per_type=args.events,
        org_slug=args.org_slug,
        api_key=args.api_key,
    )


def _cast_app(args: argparse.Namespace) -> CastAPI:
    api = CastAPI(_cast_dataset(args))
    api.event_order = args.event_order
    api.gone_generations = set(args.gone or ())
    api.max_page_size = args.max_page_size
    return api


def _add_cast_api_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cast api")
    group.add_argument(
        "--event-order", choices=("newest_first", "shuffled"), default="newest_first"
    )
    group.add_argument(
        "--gone",
        action="append",
        metavar="GENERATION_ID",
        help="generation id still listed but whose analytics endpoints 404 (repeatable)",
    )
    group.add_argument(
        "--max-page-size", type=int, default=None, help="clamp page_size (default: no cap)"
    )


def _override(text: str) -> tuple[int, int]:
    key, sep, count = text.partition("=")
    try:
        if not sep:
            raise ValueError(text)
        return int(key), int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected EI=N or INDEX=N, got {text!r}") from None


def _add_webcasts_dataset_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dataset")
    group.add_argument("--seed", type=int, default=7)
    group.add_argument("--events", type=int, default=4, help="number of events (7-digit ids)")
    group.add_argument("--registrants", type=int, default=50, help="registrants per event")
    group.add_argument(
        "--expired-events", type=int, default=1, help="how many of the oldest events are expired"
    )
    group.add_argument(
        "--registrants-override",
        type=_override,
        action="append",
        metavar="EI=N",
        help="registrants of one event, by event id or 0-based index (repeatable), e.g. 0=1000000",
    )
    group.add_argument("--username", default=DEFAULT_USERNAME)
    group.add_argument("--password", default=DEFAULT_PASSWORD)


def _webcasts_dataset(args: argparse.Namespace) -> WebcastsDataset:
    return WebcastsDataset(
        seed=args.seed,
        events=args.events,
        registrants_per_event=args.registrants,
        username=args.username,
        password=args.password,
        expired_events=args.expired_events,
        registrants_overrides=dict(args.registrants_override or ()),
    )


def _add_webcasts_api_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("webcasts api")
    group.add_argument("--session-ttl-seconds", type=float, default=7200)
    group.add_argument(
        "--session-max-calls",
        type=int,
        default=None,
        help="reporting calls per login before the session expires (default: unlimited)",
    )
    group.add_argument(
        "--single-session", action="store_true", help="a new login invalidates earlier sessions"
    )
    group.add_argument(
        "--json-no-collapse",
        action="store_true",
        help="JSON lists are always arrays (default: 1-element lists collapse to an object, "
        'empty ones to "")',
    )
    group.add_argument(
        "--json-numbers", action="store_true", help="JSON numbers as numbers (default: strings)"
    )
    group.add_argument(
        "--no-stream", action="store_true", help="send reports with Content-Length, not chunked"
    )
    group.add_argument("--csv-bom", action="store_true", help="start CSV reports with a UTF-8 BOM")
    for flag, what in (
        ("--malformed-xml", "XML report truncated mid-document"),
        ("--entity-expansion", "XML report with a billion-laughs DOCTYPE"),
        ("--external-entity", "XML report with an external entity (file:///etc/passwd)"),
    ):
        group.add_argument(
            flag, type=int, action="append", metavar="EI", help=f"{what} (repeatable)"
        )


def _webcasts_app(args: argparse.Namespace) -> WebcastsAPI:
    api = WebcastsAPI(
        _webcasts_dataset(args),
        session_ttl_seconds=args.session_ttl_seconds,
        session_max_calls=args.session_max_calls,
    )
    api.single_session = args.single_session
    api.json_collapse_single_lists = not args.json_no_collapse
    api.json_numbers_as_strings = not args.json_numbers
    api.stream_responses = not args.no_stream
    api.csv_bom = args.csv_bom
    api.malformed_xml_for = set(args.malformed_xml or ())
    api.entity_expansion_for = set(args.entity_expansion or ())
    api.external_entity_for = set(args.external_entity or ())
    return api


def _webcasts_truth(args: argparse.Namespace) -> dict:
    dataset = _webcasts_dataset(args)
    return dataset.expected_counts() if args.counts_only else dataset.ground_truth()


def _add_webcasts_truth_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
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
        lambda args: _cast_dataset(args).ground_truth(),
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


def _add_server_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server & faults")
    group.add_argument("--host", default="127.0.0.1")
    group.add_argument("--port", type=int, default=8765, help="0 = any free port")
    group.add_argument("--latency-ms", type=float, default=0.0)
    group.add_argument(
        "--fault-rate", type=float, default=0.0, help="probability of a random fault per request"
    )
    group.add_argument(
        "--fault-kinds",
        default="429,500,502,503,drop,truncate",
        help=f"comma-separated pool for random faults, from: {','.join(FAULT_KINDS)}",
    )
    group.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After seconds of the 429 fault"
    )
    group.add_argument("--slow-seconds", type=float, default=5.0)
    group.add_argument("--fault-seed", type=int, default=0)


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
        serve_parser = serve_sub.add_parser(name)
        _add_server_args(serve_parser)
        add_data(serve_parser)
        add_api(serve_parser)
        truth_parser = truth_sub.add_parser(name)
        add_data(truth_parser)
        if name in TRUTH_ARGS:
            TRUTH_ARGS[name](truth_parser)
        truth_parser.add_argument("--out", help="output file (default: stdout)")
        truth_parser.add_argument("--indent", type=int, default=None)
    return parser


def _serve(args: argparse.Namespace) -> int:
    app = VENDORS[args.vendor][2](args)
    kinds = tuple(k for k in args.fault_kinds.split(",") if k)
    faults = FaultConfig(
        latency_ms=args.latency_ms,
        rate=args.fault_rate,
        kinds=kinds,
        retry_after=args.retry_after,
        slow_seconds=args.slow_seconds,
        seed=args.fault_seed,
    )
    server = SandboxServer(app, host=args.host, port=args.port, faults=faults).start()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"{args.vendor} sandbox listening on http://{host}:{server.port}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _truth(args: argparse.Namespace) -> int:
    truth = VENDORS[args.vendor][3](args)
    text = json_text(truth, indent=args.indent) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out_file:
            out_file.write(text)
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _serve(args) if args.command == "serve" else _truth(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
