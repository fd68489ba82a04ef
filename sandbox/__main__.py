"""CLI.

With no options, each simulator listens where the `sandbox` environment of meltano.yml
expects it, with the same credentials, and prints the config a tap needs:

python -m sandbox serve cast
python -m sandbox truth cast --out truth.json
python -m sandbox serve webcasts --port 8766 --registrants-override 0=1000000
python -m sandbox truth webcasts --counts-only
python -m sandbox serve rev --port 8767 --big-webcast-sessions 200000
python -m sandbox truth rev --counts-only
python -m sandbox serve rev --shared-people 12   # 12 people also in cast and webcasts
"""

from __future__ import annotations

import argparse
import errno
import json
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, NamedTuple

from .cast import CastAPI, CastDataset
from .faults import FAULT_KINDS, FaultConfig
from .rev import (
    RevAPI,
    add_rev_api_args,
    add_rev_dataset_args,
    add_rev_truth_args,
    rev_app_from_args,
    rev_truth_from_args,
)
from .server import SandboxServer, json_text
from .shared_people import add_shared_people_arg
from .webcasts import DEFAULT_USERNAME, WebcastsAPI, WebcastsDataset

# The CLI's defaults are the values of the `sandbox` environment in meltano.yml, so
# `python -m sandbox serve <vendor>` answers `meltano --environment=sandbox run` as it is
# (tests/test_sandbox_cli.py keeps them equal). The datasets keep their own defaults (Cast's
# is the documented sample key, whose '$' Meltano would expand inside meltano.yml).
SANDBOX_API_KEY = "sandbox-demo-key"
CLI_DEFAULTS: dict[str, dict[str, Any]] = {
    "cast": {"port": 8765, "api_key": SANDBOX_API_KEY},
    "webcasts": {"port": 8766, "password": "sandbox-demo-password"},
    "rev": {"port": 8767, "api_key": SANDBOX_API_KEY, "secret": "sandbox-demo-secret"},
}


def _add_cast_dataset_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dataset")
    group.add_argument("--seed", type=int, default=7)
    group.add_argument("--casts", type=int, default=2, help="number of casts (ids 1940, 1941, ...)")
    group.add_argument("--campaigns", type=int, default=3, help="campaigns per cast")
    group.add_argument(
        "--events", type=int, default=40, help="events per event type per campaign (on average)"
    )
    group.add_argument("--api-key", help="expected Authorization header")
    group.add_argument("--org-slug", default="demo-org")
    add_shared_people_arg(group)


def _cast_dataset(args: argparse.Namespace) -> CastDataset:
    return CastDataset(
        seed=args.seed,
        casts=args.casts,
        campaigns_per_cast=args.campaigns,
        events_per_type=args.events,
        org_slug=args.org_slug,
        api_key=args.api_key,
        shared_people=args.shared_people,
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
    group.add_argument("--password")
    add_shared_people_arg(group)


def _webcasts_dataset(args: argparse.Namespace) -> WebcastsDataset:
    return WebcastsDataset(
        seed=args.seed,
        events=args.events,
        registrants_per_event=args.registrants,
        username=args.username,
        password=args.password,
        expired_events=args.expired_events,
        registrants_overrides=dict(args.registrants_override or ()),
        shared_people=args.shared_people,
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


def _cast_config(api: CastAPI) -> dict[str, Any]:
    dataset = api.dataset
    return {
        "api_key": dataset.api_key,
        "org_slug": dataset.org_slug,
        "cast_ids": dataset.cast_ids(),
    }


def _webcasts_config(api: WebcastsAPI) -> dict[str, Any]:
    return {"username": api.dataset.username, "password": api.dataset.password}


def _rev_config(api: RevAPI) -> dict[str, Any]:
    dataset = api.dataset
    # From the day the first webcast starts, so a first run reads every webcast.
    first = min((webcast.start for webcast in dataset.webcasts), default=dataset.now)
    day = datetime.fromtimestamp(first, tz=timezone.utc).strftime("%Y-%m-%dT00:00:00Z")
    return {
        "api_key": dataset.api_key,
        "secret": dataset.secret,
        "start_date": day,
        # Every run the dataset has reports for, and its live webcasts' real-time attendees:
        # the settings that read everything `python -m sandbox truth rev` lists.
        "run_numbers": sorted({run for webcast in dataset.webcasts for run in webcast.runs}),
        "include_realtime_attendees": any(webcast.live for webcast in dataset.webcasts),
    }


class Vendor(NamedTuple):
    tap: str
    add_dataset_args: Callable[[argparse.ArgumentParser], None]
    add_api_args: Callable[[argparse.ArgumentParser], None]  # serve only
    app: Callable[[argparse.Namespace], Any]
    truth: Callable[[argparse.Namespace], dict]
    config: Callable[[Any], dict[str, Any]]  # app -> the tap's settings, base_url aside


VENDORS: dict[str, Vendor] = {
    "cast": Vendor(
        "tap-cast",
        _add_cast_dataset_args,
        _add_cast_api_args,
        _cast_app,
        lambda args: _cast_dataset(args).ground_truth(),
        _cast_config,
    ),
    "webcasts": Vendor(
        "tap-webcasts",
        _add_webcasts_dataset_args,
        _add_webcasts_api_args,
        _webcasts_app,
        _webcasts_truth,
        _webcasts_config,
    ),
    "rev": Vendor(
        "tap-rev-webcast",
        add_rev_dataset_args,
        add_rev_api_args,
        rev_app_from_args,
        rev_truth_from_args,
        _rev_config,
    ),
}
# vendor -> add truth-only args (optional)
TRUTH_ARGS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "webcasts": _add_webcasts_truth_args,
    "rev": add_rev_truth_args,
}


def _add_server_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server & faults")
    group.add_argument("--host", default="127.0.0.1")
    group.add_argument(
        "--port", type=int, help="default: the sandbox environment's port; 0 = any free port"
    )
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
    serve = sub.add_parser(
        "serve", help="serve a simulator until SIGINT/SIGTERM; prints the config a tap needs"
    )
    serve_sub = serve.add_subparsers(dest="vendor", required=True)
    truth = sub.add_parser("truth", help="write the ground truth JSON of a dataset")
    truth_sub = truth.add_subparsers(dest="vendor", required=True)
    for name, vendor in VENDORS.items():
        defaults = CLI_DEFAULTS[name]
        serve_parser = serve_sub.add_parser(name)
        _add_server_args(serve_parser)
        vendor.add_dataset_args(serve_parser)
        vendor.add_api_args(serve_parser)
        serve_parser.set_defaults(**defaults)
        truth_parser = truth_sub.add_parser(name)
        vendor.add_dataset_args(truth_parser)
        if name in TRUTH_ARGS:
            TRUTH_ARGS[name](truth_parser)
        truth_parser.add_argument("--out", help="output file (default: stdout)")
        truth_parser.add_argument("--indent", type=int, default=None)
        truth_parser.set_defaults(
            **{key: value for key, value in defaults.items() if key != "port"}
        )
    return parser


def config_lines(tap: str, config: dict[str, Any]) -> list[str]:
    """The settings ``config`` as a JSON config file and as Meltano environment variables."""
    prefix = tap.upper().replace("-", "_")
    env = " ".join(
        f"{prefix}_{key.upper()}="
        + shlex.quote(value if isinstance(value, str) else json.dumps(value))
        for key, value in config.items()
    )
    return [
        f"{tap} config (save as config.json, then `{tap} --config config.json`):",
        f"  {json.dumps(config)}",
        "or as environment variables for `meltano run`:",
        f"  export {env}",
    ]


def _listen_failure(args: argparse.Namespace, exc: OSError) -> str:
    where = f"{args.host}:{args.port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"error: the {args.vendor} sandbox cannot listen on {where}: the port is taken "
            "(another sandbox or `make demo` still running?). Stop that process, or pass "
            "--port N (0 picks a free port)."
        )
    return (
        f"error: the {args.vendor} sandbox cannot listen on {where}: {exc.strerror or exc}. "
        "Pass another --host or --port."
    )


def _serve(args: argparse.Namespace) -> int:
    vendor = VENDORS[args.vendor]
    app = vendor.app(args)
    kinds = tuple(k for k in args.fault_kinds.split(",") if k)
    faults = FaultConfig(
        latency_ms=args.latency_ms,
        rate=args.fault_rate,
        kinds=kinds,
        retry_after=args.retry_after,
        slow_seconds=args.slow_seconds,
        seed=args.fault_seed,
    )
    try:
        server = SandboxServer(app, host=args.host, port=args.port, faults=faults).start()
    except OSError as exc:
        print(_listen_failure(args, exc), file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # The first line ends with the URL: scripts and the benches read it from there.
    print(f"{args.vendor} sandbox listening on {server.url}", flush=True)
    config = {"base_url": server.url, **vendor.config(app)}
    print("\n".join([*config_lines(vendor.tap, config), "Ctrl-C stops the sandbox."]), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _truth(args: argparse.Namespace) -> int:
    truth = VENDORS[args.vendor].truth(args)
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
