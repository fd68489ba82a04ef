"""Command-line arguments of the Rev sandbox (``python -m sandbox serve|truth rev``)."""

from __future__ import annotations

import argparse

from ..shared_people import add_shared_people_arg
from .api import RevAPI
from .common import (
    DEFAULT_API_KEY,
    DEFAULT_NOW,
    DEFAULT_PASSWORD,
    DEFAULT_RATE_LIMITS,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    LAST_PAGE_VARIANTS,
)
from .dataset import RevDataset


def add_rev_dataset_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dataset")
    group.add_argument("--seed", type=int, default=7)
    group.add_argument("--webcasts", type=int, default=8)
    group.add_argument("--sessions", type=int, default=600, help="mean sessions per report")
    group.add_argument(
        "--big-webcast-sessions",
        type=int,
        default=0,
        help="give the first completed webcast this many sessions (e.g. 200000)",
    )
    group.add_argument("--realtime-attendees", type=int, default=60)
    group.add_argument(
        "--upcoming-webcasts", type=int, default=0, help="webcasts scheduled after 'now'"
    )
    add_shared_people_arg(group)
    group.add_argument("--now", default=DEFAULT_NOW, help="the dataset's reference time")
    group.add_argument("--api-key", default=DEFAULT_API_KEY)
    group.add_argument("--secret", default=DEFAULT_SECRET)
    group.add_argument("--username", default=DEFAULT_USERNAME)
    group.add_argument("--password", default=DEFAULT_PASSWORD)


def add_rev_api_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rev api")
    group.add_argument("--token-lifetime", type=float, default=600.0, help="seconds")
    group.add_argument("--scroll-ttl", type=float, default=60.0, help="seconds")
    group.add_argument("--last-page", choices=LAST_PAGE_VARIANTS, default="null")
    group.add_argument("--attendee-casing", choices=("pascal", "camel"), default="pascal")
    for family, limit in DEFAULT_RATE_LIMITS.items():
        group.add_argument(f"--{family}-per-minute", type=int, default=limit)
    group.add_argument(
        "--single-session",
        action="store_true",
        help="a login invalidates the earlier tokens of the same key or user",
    )
    group.add_argument(
        "--reports-family",
        choices=("post_event_report", "all_reports"),
        default="post_event_report",
        help="which report endpoints share the 120-a-minute family",
    )
    group.add_argument(
        "--rate-limit-retry-after",
        action="store_true",
        help="send Retry-After with rate-limit 429s (the docs publish none)",
    )


def rev_dataset_from_args(args: argparse.Namespace) -> RevDataset:
    return RevDataset(
        seed=args.seed,
        webcasts=args.webcasts,
        sessions=args.sessions,
        big_webcast_sessions=args.big_webcast_sessions,
        realtime_attendees=args.realtime_attendees,
        upcoming_webcasts=args.upcoming_webcasts,
        now=args.now,
        api_key=args.api_key,
        secret=args.secret,
        username=args.username,
        password=args.password,
        shared_people=args.shared_people,
    )


def rev_app_from_args(args: argparse.Namespace) -> RevAPI:
    api = RevAPI(rev_dataset_from_args(args))
    api.token_lifetime = args.token_lifetime
    api.scroll_ttl = args.scroll_ttl
    api.last_page = args.last_page
    api.attendee_casing = args.attendee_casing
    api.rate_limits = {f: getattr(args, f"{f}_per_minute") for f in DEFAULT_RATE_LIMITS}
    api.rate_limit_retry_after = args.rate_limit_retry_after
    api.single_session = args.single_session
    api.reports_family = args.reports_family
    return api


def add_rev_truth_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--counts-only",
        action="store_true",
        help="only the rows per stream (cheap at any size)",
    )


def rev_truth_from_args(args: argparse.Namespace) -> dict:
    dataset = rev_dataset_from_args(args)
    return dataset.expected_counts() if args.counts_only else dataset.ground_truth()
