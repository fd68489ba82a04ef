"""Constants, value pools, formats and the contact and campaign records of the Cast dataset."""

from __future__ import annotations

import json
import random
import re
import time
import unicodedata
import zlib
from calendar import timegm
from datetime import datetime
from pathlib import Path
from typing import Any

EVENT_TYPES: tuple[str, ...] = ("delivered", "view", "play", "action", "feedback")
DOC_API_KEY = "gBByzd$FiDnX#KMwq6!di&GiS&Qi!jsV"  # the documented sample key
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "data" / "fixtures" / "cast"

# Counter keys of /cross_campaign_analytics_summary -> event type they count
# (documented field table).
CROSS_CAMPAIGN_KEYS = {
    "loadTime": "view",
    "play": "play",
    "click.action": "action",
    "feedback": "feedback",
    "email_delivered": "delivered",
}

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUMMARY_KEY = re.compile(r"^(unique|total)_(\w+)$")

CAMPAIGN_NAMES = [
    "Café Q3 🚀",
    "ANZ",
    "Onboarding 👋 Welcome",
    "",  # empty names do occur in the wild: clients must not treat "" as missing
    "MUFG July 2023",
    "日本語キャンペーン",
    "Renewal — Q4 “Champions”",
    "Zürich Expansion",
    "QBR <draft> & notes",
    "Año nuevo 2025 🎉",
    "Ελληνικά pilot",
    "NPS follow-up",
]
CONTACT_NAMES = [
    "Mike",
    "Karen",
    "Yolanda",
    "Zoë Brontë",
    "José Álvarez",
    "Søren Madsen",
    "李雷",
    "Nguyễn Văn An",
    "Łukasz Wójcik",
    "Émilie Dubois",
    "Seán O'Brien",
    "Aylin Y\u0131lmaz",
    "Priya Raghunathan",
    "山田 太郎",
    "Chloé 🌸",
    "Ahmed Al-Farsi",
    "Dmitrij Šulc",
    "Ana María",
    "Björn Ågren",
    "Olu Adébáyọ̀",
]
LANGUAGES = ["english"] * 9 + ["spanish", "german", "french", "japanese"]
DEVICES: dict[str, list[tuple[str, str]]] = {  # device_type -> [(os_name, browser_name)]
    "desktop": [
        ("Windows", "Chrome"),
        ("Windows", "Edge"),
        ("macOS", "Chrome"),
        ("macOS", "Safari"),
        ("Windows", "Firefox"),
        ("Linux", "Firefox"),
    ],
    "mobile": [
        ("iOS", "Mobile Safari"),
        ("iOS", "Chrome Mobile"),
        ("Android", "Chrome Mobile"),
        ("Android", "Samsung Internet"),
    ],
    # ASSUMPTION: only "mobile"/"desktop" are documented; a rare "tablet" exercises clients
    # on extra keys.
    "tablet": [("iPadOS", "Mobile Safari"), ("Android", "Chrome")],
}
CONTACT_STATUSES = ["active"] * 9 + [
    "unsubscribed"
]  # ASSUMPTION: status enum unpublished; "active" documented
# ASSUMPTION: scenes_watched/actions_clicked/feedbacks element shapes are unpublished
# (docs show only []).
SCENES = ["Intro", "Your usage this quarter", "ROI summary", "Recommendations", "Next steps"]
ACTIONS = [
    ("Book a meeting", "https://calendly.com/example/qbr"),
    ("Read the guide", "https://example.com/guide"),
    ("Upgrade now", "https://example.com/upgrade"),
]
FEEDBACKS = ["👍 Helpful", "👎 Not helpful", "😐 Neutral"]


def load_fixtures(fixtures_dir: str | Path | None = None) -> dict[str, Any]:
    folder = Path(fixtures_dir) if fixtures_dir else FIXTURES_DIR
    names = ("campaign", "analytics", "analytics_event", "cross_campaign_entry")
    return {n: json.loads((folder / f"{n}.json").read_text(encoding="utf-8")) for n in names}


def iso_naive(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def iso_ms_z(epoch: int, millis: int) -> str:
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(epoch))}.{millis:03d}Z"


def parse_naive(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        raise ValueError(f"expected a naive datetime like 2022-12-20T22:54:33, got {text!r}")
    return timegm(moment.timetuple())


def stable_hash(*parts: str) -> int:
    return zlib.crc32("\x1f".join(parts).encode("utf-8"))


class Contact:
    __slots__ = ("devices", "email", "id", "ips", "language", "name", "phone", "status")

    def __init__(self, rng: random.Random, cid: int) -> None:
        self.id = str(cid)
        self.name = rng.choice(CONTACT_NAMES)
        slug = unicodedata.normalize("NFKD", self.name).encode("ascii", "ignore").decode().lower()
        slug = re.sub(r"[^a-z0-9]+", ".", slug).strip(".") or "contact"
        self.email = f"{slug}+{cid}@example.com"
        self.phone = f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
        self.status = rng.choice(CONTACT_STATUSES)
        self.language = rng.choice(LANGUAGES)
        draw = rng.random()
        primary = "desktop" if draw < 0.6 else "mobile" if draw < 0.95 else "tablet"
        devices = [(primary, *rng.choice(DEVICES[primary]))]
        if (
            rng.random() < 0.4
        ):  # some contacts use a second device / OS (as in the documented sample)
            other = rng.choice(("desktop", "mobile"))
            devices.append((other, *rng.choice(DEVICES[other])))
        self.devices = devices
        self.ips = [random_ip(rng) for _ in range(rng.randint(1, 3))]


def random_ip(rng: random.Random) -> str:
    if rng.random() < 0.7:
        randint = rng.randint
        return f"{randint(1, 223)}.{randint(0, 255)}.{randint(0, 255)}.{randint(1, 254)}"
    randint = rng.randint
    return (
        f"2a09:bac1:{randint(0, 0xFFFF):x}:{randint(0, 0xFF):x}"
        f"::{randint(1, 0xFFF):x}:{randint(1, 0xFF):x}"
    )


def uniq_key(event: dict[str, Any]) -> tuple:
    return (
        event["event_at"],
        event["contact_id"],
        event["ip_address"],
        event["device_type"],
        event["os_name"],
        event["browser_name"],
    )


class CampaignMeta:
    __slots__ = ("cast_id", "contacts", "created_epoch", "generation_id", "rich")

    def __init__(
        self,
        cast_id: int,
        generation_id: str,
        created_epoch: int,
        contacts: list[Contact],
        rich: bool,
    ):
        self.cast_id = cast_id
        self.generation_id = generation_id
        self.created_epoch = created_epoch
        self.contacts = contacts
        self.rich = rich  # True: scenes_watched/actions_clicked/feedbacks are filled (else [])
