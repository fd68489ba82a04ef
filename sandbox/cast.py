"""Cast.app Analytics API simulator.

Seeded dataset (:class:`CastDataset`) and routing (:class:`CastAPI`).

Modelled on Cast's public "Cast Analytics API" documentation (school.cast.app) and on
third-party notes derived from it. The served object shapes come from the documented samples
in ``data/fixtures/cast`` (keys and key order are copied from them). Behaviour the docs do not
cover is marked ``ASSUMPTION`` where it is implemented.
"""

from __future__ import annotations

import copy
import json
import random
import re
import threading
import time
import unicodedata
import zlib
from calendar import timegm
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .faults import FaultConfig
from .server import SandboxRequest, SandboxResponse, SandboxServer, json_bytes

EVENT_TYPES: tuple[str, ...] = ("delivered", "view", "play", "action", "feedback")
DOC_API_KEY = "gBByzd$FiDnX#KMwq6!di&GiS&Qi!jsV"  # the documented sample key
FIXTURES_DIR = Path(__file__).resolve().parent / "data" / "fixtures" / "cast"

# Counter keys of /cross_campaign_analytics_summary -> event type they count
# (documented field table).
CROSS_CAMPAIGN_KEYS = {
    "loadTime": "view",
    "play": "play",
    "click.action": "action",
    "feedback": "feedback",
    "email_delivered": "delivered",
}

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUMMARY_KEY = re.compile(r"^(unique|total)_(\w+)$")

_CAMPAIGN_NAMES = [
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
_CONTACT_NAMES = [
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
_LANGUAGES = ["english"] * 9 + ["spanish", "german", "french", "japanese"]
_DEVICES: dict[str, list[tuple[str, str]]] = {  # device_type -> [(os_name, browser_name)]
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
_CONTACT_STATUSES = ["active"] * 9 + [
    "unsubscribed"
]  # ASSUMPTION: status enum unpublished; "active" documented
# ASSUMPTION: scenes_watched/actions_clicked/feedbacks element shapes are unpublished
# (docs show only []).
_SCENES = ["Intro", "Your usage this quarter", "ROI summary", "Recommendations", "Next steps"]
_ACTIONS = [
    ("Book a meeting", "https://calendly.com/example/qbr"),
    ("Read the guide", "https://example.com/guide"),
    ("Upgrade now", "https://example.com/upgrade"),
]
_FEEDBACKS = ["👍 Helpful", "👎 Not helpful", "😐 Neutral"]


def load_fixtures(fixtures_dir: str | Path | None = None) -> dict[str, Any]:
    d = Path(fixtures_dir) if fixtures_dir else FIXTURES_DIR
    names = ("campaign", "analytics", "analytics_event", "cross_campaign_entry")
    return {n: json.loads((d / f"{n}.json").read_text(encoding="utf-8")) for n in names}


def _iso_naive(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def _iso_ms_z(epoch: int, ms: int) -> str:
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(epoch))}.{ms:03d}Z"


def _parse_naive(s: str) -> int:
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is not None:
        raise ValueError(f"expected a naive datetime like 2022-12-20T22:54:33, got {s!r}")
    return timegm(dt.timetuple())


def _stable_hash(*parts: str) -> int:
    return zlib.crc32("\x1f".join(parts).encode("utf-8"))


class _Contact:
    __slots__ = ("devices", "email", "id", "ips", "language", "name", "phone", "status")

    def __init__(self, rng: random.Random, cid: int) -> None:
        self.id = str(cid)
        self.name = rng.choice(_CONTACT_NAMES)
        slug = unicodedata.normalize("NFKD", self.name).encode("ascii", "ignore").decode().lower()
        slug = re.sub(r"[^a-z0-9]+", ".", slug).strip(".") or "contact"
        self.email = f"{slug}+{cid}@example.com"
        self.phone = f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
        self.status = rng.choice(_CONTACT_STATUSES)
        self.language = rng.choice(_LANGUAGES)
        r = rng.random()
        primary = "desktop" if r < 0.6 else "mobile" if r < 0.95 else "tablet"
        devices = [(primary, *rng.choice(_DEVICES[primary]))]
        if (
            rng.random() < 0.4
        ):  # some contacts use a second device / OS (as in the documented sample)
            other = rng.choice(("desktop", "mobile"))
            devices.append((other, *rng.choice(_DEVICES[other])))
        self.devices = devices
        self.ips = [_random_ip(rng) for _ in range(rng.randint(1, 3))]


def _random_ip(rng: random.Random) -> str:
    if rng.random() < 0.7:
        r = rng.randint
        return f"{r(1, 223)}.{r(0, 255)}.{r(0, 255)}.{r(1, 254)}"
    r = rng.randint
    return f"2a09:bac1:{r(0, 0xFFFF):x}:{r(0, 0xFF):x}::{r(1, 0xFFF):x}:{r(1, 0xFF):x}"


def _uniq_key(e: dict[str, Any]) -> tuple:
    return (
        e["event_at"],
        e["contact_id"],
        e["ip_address"],
        e["device_type"],
        e["os_name"],
        e["browser_name"],
    )


class _CampaignMeta:
    __slots__ = ("cast_id", "contacts", "created_epoch", "generation_id", "rich")

    def __init__(
        self,
        cast_id: int,
        generation_id: str,
        created_epoch: int,
        contacts: list[_Contact],
        rich: bool,
    ):
        self.cast_id = cast_id
        self.generation_id = generation_id
        self.created_epoch = created_epoch
        self.contacts = contacts
        self.rich = rich  # True: scenes_watched/actions_clicked/feedbacks are filled (else [])


class CastDataset:
    """Deterministic Cast.app data: campaigns, events, and the analytics derived from them.

    Totals are exact: every cast gets ``campaigns_per_cast * events_per_type`` events of each type,
    spread unevenly over its campaigns (one campaign of the first cast has no feedback events
    at all).
    So ``total_events == casts * campaigns_per_cast * 5 * events_per_type``.
    Event lists are kept sorted newest first (ties in insertion order). Analytics are recomputed
    lazily after :meth:`add_events`. Thread-safe.
    """

    def __init__(
        self,
        seed: int = 7,
        casts: int = 2,
        campaigns_per_cast: int = 3,
        events_per_type: int = 40,
        org_slug: str = "demo-org",
        api_key: str = DOC_API_KEY,
        fixtures_dir: str | Path | None = None,
    ) -> None:
        if casts < 0 or campaigns_per_cast < 0 or events_per_type < 0:
            raise ValueError("casts, campaigns_per_cast and events_per_type must be >= 0")
        self.seed = seed
        self.org_slug = org_slug
        self.api_key = api_key
        self.fixtures = load_fixtures(fixtures_dir)
        self._event_keys = list(self.fixtures["analytics_event"])
        self._lock = threading.RLock()
        self._campaigns: dict[int, list[dict[str, Any]]] = {}  # cast_id -> campaigns, API order
        self._meta: dict[tuple[int, str], _CampaignMeta] = {}
        self._events: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
        self._analytics_cache: dict[tuple[int, str], dict[str, Any]] = {}
        self._mutations = 0
        self.version = 0  # bumped by every mutation
        self._generate(random.Random(seed), casts, campaigns_per_cast, events_per_type)

    # ------------------------------------------------------------------ generation
    def _generate(self, rng: random.Random, casts: int, per_cast: int, per_type: int) -> None:
        self.org_id = rng.randint(100, 999)
        campaign_id = rng.randint(2000, 4000)
        contact_id = 1443600 + rng.randint(0, 99)
        day0 = timegm((2023, 1, 1, 0, 0, 0)) + rng.randint(0, 365) * 86400
        used_groups: set[str] = set()
        g = 0  # global campaign index
        for ci in range(casts):
            cast_id = 1940 + ci
            contacts = []
            for _ in range(rng.randint(12, 30)):
                contact_id += rng.randint(1, 7)
                contacts.append(_Contact(rng, contact_id))
            counts = self._split_counts(rng, ci, per_cast, per_type)
            campaigns: list[dict[str, Any]] = []
            t = day0 + ci * 17 * 86400
            for j in range(per_cast):
                t += rng.randint(3, 40) * 86400 + rng.randint(0, 86399)
                campaign_id += rng.randint(1, 40)
                camp_contacts = rng.sample(
                    contacts, rng.randint(min(5, len(contacts)), len(contacts))
                )
                gid = ""
                while not gid or gid in used_groups:
                    gid = time.strftime("%Y%m%d_", time.gmtime(t)) + "".join(
                        rng.choice(_BASE62) for _ in range(22)
                    )
                used_groups.add(gid)
                campaigns.append(
                    self._make_campaign(rng, g, campaign_id, cast_id, gid, t, len(camp_contacts))
                )
                meta = _CampaignMeta(cast_id, gid, t, camp_contacts, rich=(g % 2 == 0))
                self._meta[(cast_id, gid)] = meta
                for ti, etype in enumerate(EVENT_TYPES):
                    self._events[(cast_id, gid, etype)] = self._make_events(
                        rng, meta, etype, counts[ti][j]
                    )
                g += 1
            # Newest campaign first, as in the documented sample list.
            campaigns.sort(key=lambda c: c["created_at"], reverse=True)
            self._campaigns[cast_id] = campaigns

    @staticmethod
    def _split_counts(rng: random.Random, ci: int, per_cast: int, per_type: int) -> list[list[int]]:
        """Per event type, the event count of each campaign (rows sum to per_cast * per_type)."""
        rows = []
        for ti in range(len(EVENT_TYPES)):
            row = [per_type] * per_cast
            for j in range(
                0, per_cast - 1, 2
            ):  # move a few events between pairs: uneven but exact totals
                d = rng.randint(0, per_type // 4)
                row[j] += d
                row[j + 1] -= d
            if ci == 0 and per_cast >= 2 and EVENT_TYPES[ti] == "feedback":
                row[1] += row[0]  # an empty partition: campaign 0 of the first cast has no feedback
                row[0] = 0
            rows.append(row)
        return rows

    def _make_campaign(
        self, rng: random.Random, g: int, cid: int, cast_id: int, gid: str, t: int, n_contacts: int
    ) -> dict[str, Any]:
        name = _CAMPAIGN_NAMES[g % len(_CAMPAIGN_NAMES)]
        if g >= len(_CAMPAIGN_NAMES):
            name = f"{name} #{g // len(_CAMPAIGN_NAMES) + 1}"
        # Status variety; counters always satisfy PROCESSING+FINISHED+FAILED+SKIPPED == TOTAL.
        # ASSUMPTION: campaign status enum is unpublished; FINISHED is documented, the others
        # mirror the counters.
        total = n_contacts
        processing = failed = skipped = 0
        error = None
        status = "FINISHED"
        if g % 7 == 3:
            status, processing = "PROCESSING", rng.randint(1, max(1, total // 2))
        elif g % 7 == 5:
            status, failed = "FAILED", rng.randint(1, total)
            error = f"Generation failed for {failed} contact(s): missing value for {{first_name}}"
        elif rng.random() < 0.3:
            skipped = 1
        finished = total - processing - failed - skipped
        # ASSUMPTION: delivery/scheduled date formats are unpublished; same format as created_at.
        delivery_date = _iso_ms_z(t + 3600, rng.randint(0, 999)) if g % 3 == 0 else None
        scheduled = g % 4 == 1
        values = {
            "id": cid,
            "org_id": self.org_id,
            "cast_id": cast_id,
            "name": name,
            "generate_group": gid,
            "PROCESSING": processing,
            "FINISHED": finished,
            "FAILED": failed,
            "SKIPPED": skipped,
            "TOTAL": total,
            "error_message": error,
            "status": status,
            "is_archived": g % 5 == 4,
            "created_at": _iso_ms_z(t, rng.randint(0, 999)),
            "delivery_reminders": [],  # item shape unpublished
            "delivery_date": delivery_date,
            "scheduled_delivery_id": f"{rng.getrandbits(128):032x}" if scheduled else None,
            "scheduled_delivery_date": _iso_ms_z(t + 86400, 0) if scheduled else None,
            # all dates are in the past, so a schedule has fired
            "schedule_delivery_occurred": scheduled,
        }
        fixture = self.fixtures["campaign"]
        out = {k: values[k] if k in values else copy.deepcopy(v) for k, v in fixture.items()}
        for (
            k,
            v,
        ) in values.items():  # documented fields missing from a replaced fixture are still served
            out.setdefault(k, v)
        return out

    def _new_event(
        self, rng: random.Random, meta: _CampaignMeta, etype: str, at: str, seen: set, tmpl: dict
    ) -> dict[str, Any]:
        """One event of ``etype`` at ``at``, unique within ``seen``. ``tmpl`` caches the constant
        part of the event per (contact, device, ip)."""
        rnd = rng.random
        contacts = meta.contacts
        for attempt in range(50):
            c = contacts[int(rnd() * len(contacts))]
            devs = c.devices
            dev = devs[0] if len(devs) == 1 or rnd() < 0.8 else devs[int(rnd() * len(devs))]
            ip = c.ips[int(rnd() * len(c.ips))] if attempt < 10 else _random_ip(rng)
            key = (at, c.id, ip, dev[0], dev[1], dev[2])
            if key not in seen:
                seen.add(key)
                break
        else:  # pragma: no cover - 40 tries with fresh IPs practically never collide
            raise RuntimeError("could not generate a unique event")
        tkey = (c.id, ip, dev)
        base = tmpl.get(tkey)
        if base is None:
            values = {
                "event_at": at,
                "ip_address": ip,
                "event_type": etype,
                "contact_id": c.id,
                "contact_email": c.email,
                "contact_name": c.name,
                "contact_phone": c.phone,
                "device_type": dev[0],
                "os_name": dev[1],
                "browser_name": dev[2],
                "status": c.status,
            }
            fixture = self.fixtures["analytics_event"]
            base = tmpl[tkey] = {
                k: values[k] if k in values else fixture[k] for k in self._event_keys
            }
        event = base.copy()
        if "event_at" in event:
            event["event_at"] = at
        return event

    def _make_events(
        self, rng: random.Random, meta: _CampaignMeta, etype: str, n: int
    ) -> list[dict[str, Any]]:
        if n <= 0:
            return []
        rnd = rng.random
        t = meta.created_epoch + rng.randint(60, 3 * 3600)
        max_gap = int(min(4 * 3600, max(2, 2 * 14 * 86400 // n)))
        seen: set = set()
        tmpl: dict = {}
        events = []
        stamp_t, stamp = -1, ""
        for _ in range(n):
            if t != stamp_t:
                stamp_t, stamp = t, _iso_naive(t)
            events.append(self._new_event(rng, meta, etype, stamp, seen, tmpl))
            r = rnd()
            # Ties (same second) are frequent on purpose; short bursts look like the documented
            # sample.
            if r >= 0.15:
                t += 1 + int(rnd() * (60 if r < 0.4 else max_gap))
        events.reverse()  # newest first; equal timestamps keep a fixed order
        return events

    # ------------------------------------------------------------------ lookups
    def _cast(self, cast_id: int | str) -> int:
        return int(cast_id)

    def cast_ids(self) -> list[int]:
        return list(self._campaigns)

    def has_cast(self, cast_id: int | str) -> bool:
        return self._cast(cast_id) in self._campaigns

    def campaigns(self, cast_id: int | str) -> list[dict[str, Any]]:
        """Raw campaign list of a cast in API order (newest first). KeyError for an unknown cast."""
        return list(self._campaigns[self._cast(cast_id)])

    def campaign(self, cast_id: int | str, generation_id: str) -> dict[str, Any] | None:
        cast = self._cast(cast_id)
        for c in self._campaigns.get(cast, ()):
            if c["generate_group"] == generation_id:
                return c
        return None

    def has_generation(self, cast_id: int | str, generation_id: str) -> bool:
        return (self._cast(cast_id), generation_id) in self._meta

    def events(
        self, cast_id: int | str, generation_id: str, event_type: str
    ) -> list[dict[str, Any]]:
        """Events of one partition, newest first. Do not mutate it (mutations replace the list)."""
        return self._events[(self._cast(cast_id), generation_id, event_type)]

    @property
    def total_events(self) -> int:
        return sum(len(v) for v in self._events.values())

    # ------------------------------------------------------------------ derived data
    def analytics(self, cast_id: int | str, generation_id: str) -> dict[str, Any]:
        """The /analytics object of a campaign (cached, recomputed after mutations). Read-only."""
        key = (self._cast(cast_id), generation_id)
        with self._lock:
            cached = self._analytics_cache.get(key)
            if cached is None:
                cached = self._analytics_cache[key] = self._compute_analytics(key)
            return cached

    def _compute_analytics(self, key: tuple[int, str]) -> dict[str, Any]:
        cast_id, gid = key
        meta = self._meta[key]
        ev = {t: self._events[(cast_id, gid, t)] for t in EVENT_TYPES}
        out: dict[str, Any] = {}
        for k, fx in self.fixtures["analytics"].items():
            if k == "summary":
                out[k] = self._summary(ev, fx)
            elif k == "timeline":
                out[k] = self._timeline(ev, fx)
            elif k == "user_agents":
                out[k] = self._user_agents(ev["view"])
            elif k == "languages":
                out[k] = self._languages(meta, ev["view"])
            elif k == "scenes_watched":
                out[k] = self._breakdown(ev["play"], meta.rich, "scene")
            elif k == "actions_clicked":
                out[k] = self._breakdown(ev["action"], meta.rich, "action")
            elif k == "feedbacks":
                out[k] = self._breakdown(ev["feedback"], meta.rich, "feedback")
            else:  # a key only present in a replaced fixture: serve the sample's value
                out[k] = copy.deepcopy(fx)
        return out

    @staticmethod
    def _summary(ev: dict[str, list[dict[str, Any]]], fx: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in fx.items():
            m = _SUMMARY_KEY.match(k)
            if m and m.group(2) in ev:
                events = ev[m.group(2)]
                out[k] = (
                    len(events) if m.group(1) == "total" else len({e["contact_id"] for e in events})
                )
            else:
                out[k] = v
        return out

    @staticmethod
    def _timeline(ev: dict[str, list[dict[str, Any]]], fx: dict[str, Any]) -> dict[str, Any]:
        # ASSUMPTION: the docs show only a "view" series. We emit one series per event type that has
        # events, "delivered" included; types without events are omitted (play has none in the doc
        # sample and no "play" key appears). Buckets are hourly (frequency "1H"), ascending, empty
        # hours omitted (the sample skips 14:00-16:00). Timezone: same naive clock as event_at
        # (UTC assumed).
        items: dict[str, list[dict[str, Any]]] = {}
        for etype in EVENT_TYPES:
            events = ev[etype]
            if not events:
                continue
            buckets: dict[str, int] = {}
            for e in events:
                b = e["event_at"][:13] + ":00:00"
                buckets[b] = buckets.get(b, 0) + 1
            items[etype] = [{"event_dt": b, "count": buckets[b]} for b in sorted(buckets)]
        all_dts = [s[0]["event_dt"] for s in items.values()] + [
            s[-1]["event_dt"] for s in items.values()
        ]
        values = {
            "items": items,
            "frequency": "1H",
            # ASSUMPTION: with no events at all dt_min/dt_max are null.
            "dt_min": min(all_dts) if all_dts else None,
            "dt_max": max(all_dts) if all_dts else None,
        }
        out = {k: values[k] if k in values else copy.deepcopy(v) for k, v in fx.items()}
        for k, v in values.items():
            out.setdefault(k, v)
        return out

    @staticmethod
    def _user_agents(views: list[dict[str, Any]]) -> dict[str, Any]:
        # Matches the sample: count = distinct viewing contacts per device type (sample:
        # unique_view 3 -> desktop.count 3); orientation splits that count. "mobile" and
        # "desktop" are always present (the sample shows mobile with 0).
        # ASSUMPTION: orientation is a fixed property of (contact, device); desktop is always
        # landscape.
        per_device: dict[str, set[str]] = {"mobile": set(), "desktop": set()}
        for e in views:
            per_device.setdefault(e["device_type"], set()).add(e["contact_id"])
        out = {}
        for device, contacts in per_device.items():
            portrait = 0
            for cid in contacts:
                h = _stable_hash(cid, device)
                if (device == "mobile" and h % 5 != 0) or (
                    device not in ("mobile", "desktop") and h % 2 == 0
                ):
                    portrait += 1
            out[device] = {
                "count": len(contacts),
                "orientation": {"portrait": portrait, "landscape": len(contacts) - portrait},
            }
        return out

    @staticmethod
    def _languages(meta: _CampaignMeta, views: list[dict[str, Any]]) -> dict[str, int]:
        # Distinct viewing contacts per (lower-case) language; sums to unique_view as in the sample.
        lang = {c.id: c.language for c in meta.contacts}
        counts: dict[str, int] = {}
        for cid in {e["contact_id"] for e in views}:
            language = lang.get(cid, "english")
            counts[language] = counts.get(language, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    @staticmethod
    def _breakdown(events: list[dict[str, Any]], rich: bool, kind: str) -> list[dict[str, Any]]:
        # ASSUMPTION (shape unpublished): a small array of {label fields..., "count"}; counts add
        # up to the matching total_* in summary. Only every other campaign has them; the rest
        # serve [] as in the documented sample.
        if not rich or not events:
            return []
        pool: list = _SCENES if kind == "scene" else _ACTIONS if kind == "action" else _FEEDBACKS
        counts = [0] * len(pool)
        for e in events:
            counts[_stable_hash(e["event_at"], e["contact_id"], e["ip_address"]) % len(pool)] += 1
        out = []
        for i, n in enumerate(counts):
            if not n:
                continue
            if kind == "scene":
                out.append({"scene_index": i, "scene_name": pool[i], "count": n})
            elif kind == "action":
                out.append({"action_label": pool[i][0], "action_url": pool[i][1], "count": n})
            else:
                out.append({"feedback": pool[i], "count": n})
        return out

    def cross_campaign_entry(self, cast_id: int | str, generation_id: str) -> dict[str, Any]:
        # Counters are event totals (loadTime == summary.total_view, ...).
        cast = self._cast(cast_id)
        out = {}
        for k, v in self.fixtures["cross_campaign_entry"].items():
            etype = CROSS_CAMPAIGN_KEYS.get(k)
            out[k] = len(self._events[(cast, generation_id, etype)]) if etype else copy.deepcopy(v)
        return out

    def cross_campaign_summary(self, cast_id: int | str) -> dict[str, Any]:
        """Object keyed by generate_group, in campaign-list order."""
        with self._lock:
            return {
                c["generate_group"]: self.cross_campaign_entry(cast_id, c["generate_group"])
                for c in self.campaigns(cast_id)
            }

    # ------------------------------------------------------------------ mutations
    def add_events(
        self, cast_id: int | str, generation_id: str, event_type: str, n: int, at: str | None = None
    ) -> list[dict[str, Any]]:
        """Add ``n`` events to a partition and return copies of them.

        Without ``at`` they are strictly newer than every existing event of the partition (some
        share a second with each other). With ``at`` (naive ISO, e.g. "2024-01-02T03:04:05") they
        all get that
        timestamp. They are still unique on (event_at, contact, ip, device, os, browser).
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event_type {event_type!r}")
        cast = self._cast(cast_id)
        key = (cast, generation_id, event_type)
        with self._lock:
            meta = self._meta[(cast, generation_id)]
            existing = self._events[key]
            self._mutations += 1
            rng = random.Random(
                f"{self.seed}:{cast}:{generation_id}:{event_type}:{self._mutations}"
            )
            seen = {_uniq_key(e) for e in existing}
            tmpl: dict = {}
            new = []
            if at is None:
                t = (
                    _parse_naive(existing[0]["event_at"]) if existing else meta.created_epoch
                ) + rng.randint(1, 30)
                for _ in range(n):
                    new.append(self._new_event(rng, meta, event_type, _iso_naive(t), seen, tmpl))
                    t += 0 if rng.random() < 0.3 else rng.randint(1, 5)
            else:
                stamp = _iso_naive(_parse_naive(at))
                new = [self._new_event(rng, meta, event_type, stamp, seen, tmpl) for _ in range(n)]
            # Stable sort: existing order kept; new events go after existing ones of the same
            # second.
            self._events[key] = sorted(existing + new, key=lambda e: e["event_at"], reverse=True)
            self._analytics_cache.pop((cast, generation_id), None)
            self.version += 1
            return [dict(e) for e in new]

    # ------------------------------------------------------------------ ground truth
    def ground_truth(self) -> dict[str, Any]:
        """Everything the API serves, as flat lists (raw objects, API order). Switches on CastAPI
        (gone_generations, event_order) are not applied."""
        with self._lock:
            campaigns, analytics, timeline, events, cross = [], [], [], [], []
            for cast_id in self._campaigns:
                for c in self.campaigns(cast_id):
                    gid = c["generate_group"]
                    campaigns.append(copy.deepcopy(c))
                    a = copy.deepcopy(self.analytics(cast_id, gid))
                    analytics.append({"cast_id": cast_id, "generation_id": gid, "analytics": a})
                    tl = a.get("timeline") or {}
                    for etype, series in (tl.get("items") or {}).items():
                        for p in series:
                            timeline.append(
                                {
                                    "cast_id": cast_id,
                                    "generation_id": gid,
                                    "event_type": etype,
                                    "event_dt": p["event_dt"],
                                    "count": p["count"],
                                    "frequency": tl.get("frequency"),
                                }
                            )
                    for etype in EVENT_TYPES:
                        for e in self._events[(cast_id, gid, etype)]:
                            events.append({**e, "cast_id": cast_id, "generation_id": gid})
                    cross.append(
                        {
                            "cast_id": cast_id,
                            "generation_id": gid,
                            "counters": self.cross_campaign_entry(cast_id, gid),
                        }
                    )
            return {
                "campaigns": campaigns,
                "campaign_analytics": analytics,
                "campaign_timeline": timeline,
                "analytics_events": events,
                "cross_campaign_summary": cross,
            }


def _detail(status: int, detail: str) -> SandboxResponse:
    return SandboxResponse.json(status, {"detail": detail})


_NOT_FOUND = b'{"detail":"Not found."}'


def _not_found() -> SandboxResponse:
    return SandboxResponse(404, _NOT_FOUND)


class CastAPI:
    """Routes ``/designer/{org_slug}/api/cast/{cast_id}/...`` requests to a :class:`CastDataset`.

    Check order (Django/DRF-like): URL shape (404) -> Authorization (401) -> method (405) ->
    org/cast/generation lookup (404) -> query validation (400).

    Runtime switches:
      * ``event_order``: "newest_first" (documented sample order) or "shuffled" (a seeded, fixed
        permutation).
      * ``gone_generations``: generate_groups still listed but whose analytics/analytics_events 404.
      * ``max_page_size``: None = no cap (none is documented); else page_size is clamped to it
        silently
        (DRF max_page_size behaviour) and the envelope echoes the effective size.
      * ``accept_campaign_id``: also accept the integer campaign ``id`` as {generation_id}
        (default False: the documented example uses the generate_group string).
    """

    def __init__(self, dataset: CastDataset | None = None) -> None:
        self.dataset = dataset if dataset is not None else CastDataset()
        self.event_order = "newest_first"
        self.gone_generations: set[str] = set()
        self.max_page_size: int | None = None
        self.accept_campaign_id = False
        # (cast, gid, etype, order) -> (source dataset list, ordered list, encoded events)
        self._page_cache: dict[tuple, tuple[list, list[dict[str, Any]], list[bytes | None]]] = {}
        # (cast, gid) -> (analytics dict it was built from, encoded body)
        self._analytics_cache: dict[tuple[int, str], tuple[dict[str, Any], bytes]] = {}

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        segs = request.path.split("/")
        # ["", "designer", slug, "api", "cast", cast_id, *rest]
        if (
            len(segs) < 7
            or segs[0]
            or segs[1] != "designer"
            or not segs[2]
            or segs[3] != "api"
            or segs[4] != "cast"
        ):
            return _not_found()
        cast_s = segs[5]
        rest = segs[6:]
        # ASSUMPTION: strict URL patterns like Django's: int cast id, no trailing slash, no empty
        # segments.
        if not (cast_s.isascii() and cast_s.isdigit()):
            return _not_found()
        if rest == ["generation"]:
            route = "campaigns"
        elif rest == ["cross_campaign_analytics_summary"]:
            route = "cross"
        elif (
            len(rest) == 3
            and rest[0] == "generation"
            and rest[1]
            and rest[2] in ("analytics", "analytics_events")
        ):
            route = rest[2]
        else:
            return _not_found()

        ds = self.dataset
        # Exact, verbatim comparison: no "Bearer"/"Token" prefix, no URL-decoding.
        # ASSUMPTION (DRF-style, inferred): missing or wrong key -> 401
        # {"detail": "Invalid token."}.
        if request.headers.get("Authorization") != ds.api_key:
            return _detail(401, "Invalid token.")
        if request.method not in ("GET", "HEAD"):
            return _detail(405, f'Method "{request.method}" not allowed.')
        if unquote(segs[2]) != ds.org_slug or not ds.has_cast(cast_s):
            return _not_found()
        cast_id = int(cast_s)

        if route == "campaigns":
            return SandboxResponse.json(200, ds.campaigns(cast_id))
        if route == "cross":
            # ASSUMPTION: the docs do not say what show_totals changes; the documented shape is
            # served for true, false or any other value.
            return SandboxResponse.json(200, ds.cross_campaign_summary(cast_id))

        gid = self._resolve_generation(cast_id, unquote(rest[1]))
        if gid is None or gid in self.gone_generations:
            return _not_found()
        if route == "analytics":
            analytics = ds.analytics(cast_id, gid)
            hit = self._analytics_cache.get((cast_id, gid))
            if hit is None or hit[0] is not analytics:
                hit = self._analytics_cache[(cast_id, gid)] = (analytics, json_bytes(analytics))
            return SandboxResponse(200, hit[1])
        return self._events_page(request, cast_id, gid)

    def _resolve_generation(self, cast_id: int, gid: str) -> str | None:
        ds = self.dataset
        if ds.has_generation(cast_id, gid):
            return gid
        if self.accept_campaign_id and gid.isascii() and gid.isdigit():
            for c in ds.campaigns(cast_id):
                if c["id"] == int(gid):
                    return c["generate_group"]
        return None

    def _events_page(self, request: SandboxRequest, cast_id: int, gid: str) -> SandboxResponse:
        q = request.query
        etype = q.get("event_type", [""])[-1]  # last value wins, like Django's QueryDict.get
        if not etype:
            return _detail(400, "event_type is required: one of " + ", ".join(EVENT_TYPES) + ".")
        if etype not in EVENT_TYPES:
            return _detail(
                400,
                f"Invalid event_type {etype!r}: expected one of " + ", ".join(EVENT_TYPES) + ".",
            )
        page = _positive_int(q, "page", 1)
        if isinstance(page, SandboxResponse):
            return page
        size = _positive_int(q, "page_size", 50)  # documented default 50
        if isinstance(size, SandboxResponse):
            return size
        if self.max_page_size is not None:
            size = min(size, self.max_page_size)
        # One snapshot of the partition: count and results always agree.
        events, encoded = self._ordered(cast_id, gid, etype)
        start = (page - 1) * size
        end = min(start + size, len(events))
        # ASSUMPTION: a page past the end answers 200 with empty results (documented envelope).
        # DRF's PageNumberPagination would answer 404 "Invalid page."; the docs are silent.
        # Each event is encoded once (json_bytes) and cached: the body is byte-identical to
        # json_bytes(envelope), ~50x faster.
        for i in range(start, end):
            if encoded[i] is None:
                encoded[i] = json_bytes(events[i])
        head = f'{{"count":{len(events)},"page":{page},"page_size":{size},"results":['
        body = head.encode() + b",".join(encoded[start:end]) + b"]}"  # type: ignore[arg-type]
        return SandboxResponse(200, body)

    def clear_cache(self) -> None:
        """Forget cached serialisations. Only needed after mutating event dicts in place
        (CastDataset.add_events needs no call: it replaces the partition list)."""
        self._page_cache.clear()
        self._analytics_cache.clear()

    def _ordered(
        self, cast_id: int, gid: str, etype: str
    ) -> tuple[list[dict[str, Any]], list[bytes | None]]:
        events = self.dataset.events(cast_id, gid, etype)
        order = self.event_order
        if order not in ("newest_first", "shuffled"):
            raise ValueError(f"unknown event_order {order!r}")
        key = (cast_id, gid, etype, order)
        cached = self._page_cache.get(key)
        if cached is not None and cached[0] is events:
            return cached[1], cached[2]
        ordered = events
        if order == "shuffled":
            ordered = list(events)
            random.Random(f"{self.dataset.seed}:shuffle:{cast_id}:{gid}:{etype}").shuffle(ordered)
        encoded: list[bytes | None] = [None] * len(ordered)
        self._page_cache[key] = (events, ordered, encoded)
        return ordered, encoded


def _positive_int(q: dict[str, list[str]], name: str, default: int) -> int | SandboxResponse:
    values = q.get(name)
    if not values:
        return default
    raw = values[-1]
    # ASSUMPTION: non-integer or < 1 -> 400 {"detail": ...} (the docs do not describe invalid
    # values).
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        return _detail(400, f"Invalid {name} {raw!r}: must be an integer >= 1.")
    return int(raw)


def start_cast_sandbox(
    dataset: CastDataset | None = None,
    faults: FaultConfig | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
) -> tuple[SandboxServer, CastAPI]:
    """Start a Cast sandbox in-process (background thread).

    Returns (server, api); call server.stop() (or use the server as a context manager).
    """
    api = CastAPI(dataset)
    server = SandboxServer(api, host=host, port=port, faults=faults).start()
    return server, api
