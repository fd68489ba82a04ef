"""The seeded Cast dataset: campaigns, events, the analytics derived from them, ground truth."""

from __future__ import annotations

import copy
import random
import threading
import time
from calendar import timegm
from pathlib import Path
from typing import Any

from ..shared_people import SharedPerson
from ..shared_people import shared_people as shared_people_list
from .common import (
    ACTIONS,
    BASE62,
    CAMPAIGN_NAMES,
    CROSS_CAMPAIGN_KEYS,
    DOC_API_KEY,
    EVENT_TYPES,
    FEEDBACKS,
    SCENES,
    SUMMARY_KEY,
    CampaignMeta,
    Contact,
    iso_ms_z,
    iso_naive,
    load_fixtures,
    parse_naive,
    random_ip,
    stable_hash,
    uniq_key,
)


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
        shared_people: int = 0,
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
        self._meta: dict[tuple[int, str], CampaignMeta] = {}
        self._events: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
        self._analytics_cache: dict[tuple[int, str], dict[str, Any]] = {}
        self._mutations = 0
        self.version = 0  # bumped by every mutation
        self._generate(random.Random(seed), casts, campaigns_per_cast, events_per_type)
        self._add_shared_people(shared_people_list(shared_people))

    # ------------------------------------------------------------------ generation
    def _generate(self, rng: random.Random, casts: int, per_cast: int, per_type: int) -> None:
        self.org_id = rng.randint(100, 999)
        campaign_id = rng.randint(2000, 4000)
        contact_id = 1443600 + rng.randint(0, 99)
        day0 = timegm((2023, 1, 1, 0, 0, 0)) + rng.randint(0, 365) * 86400
        used_groups: set[str] = set()
        campaign_index = 0  # global campaign index
        for cast_index in range(casts):
            cast_id = 1940 + cast_index
            contacts = []
            for _ in range(rng.randint(12, 30)):
                contact_id += rng.randint(1, 7)
                contacts.append(Contact(rng, contact_id))
            counts = self._split_counts(rng, cast_index, per_cast, per_type)
            campaigns: list[dict[str, Any]] = []
            created = day0 + cast_index * 17 * 86400
            for position in range(per_cast):
                created += rng.randint(3, 40) * 86400 + rng.randint(0, 86399)
                campaign_id += rng.randint(1, 40)
                camp_contacts = rng.sample(
                    contacts, rng.randint(min(5, len(contacts)), len(contacts))
                )
                gid = ""
                while not gid or gid in used_groups:
                    gid = time.strftime("%Y%m%d_", time.gmtime(created)) + "".join(
                        rng.choice(BASE62) for _ in range(22)
                    )
                used_groups.add(gid)
                campaigns.append(
                    self._make_campaign(
                        rng, campaign_index, campaign_id, cast_id, gid, created, len(camp_contacts)
                    )
                )
                meta = CampaignMeta(
                    cast_id, gid, created, camp_contacts, rich=(campaign_index % 2 == 0)
                )
                self._meta[(cast_id, gid)] = meta
                for type_index, etype in enumerate(EVENT_TYPES):
                    self._events[(cast_id, gid, etype)] = self._make_events(
                        rng, meta, etype, counts[type_index][position]
                    )
                campaign_index += 1
            # Newest campaign first, as in the documented sample list.
            campaigns.sort(key=lambda c: c["created_at"], reverse=True)
            self._campaigns[cast_id] = campaigns

    def _add_shared_people(self, people: list[SharedPerson]) -> None:
        """Each person (see sandbox.shared_people) becomes a contact of two finished campaigns,
        with a delivered, a view and a play event (every other one also an action) an hour
        after the campaign was created. The campaign counts one more recipient. Drawn from a
        generator of their own, so the default rows do not change."""
        rng = random.Random(f"{self.seed}:shared-people")
        campaigns = {
            (cast_id, c["generate_group"]): c for cast_id, cs in self._campaigns.items() for c in cs
        }
        finished = [key for key, c in campaigns.items() if c["status"] == "FINISHED"]
        finished = finished or list(campaigns)
        for person in people:
            if not finished:
                return
            contact = Contact(rng, 1_500_000 + person.number)
            contact.name, contact.email = person.name, person.email_at("cast")
            contact.status = "active"
            chosen = {finished[person.number % len(finished)]}
            chosen.add(finished[(person.number + 1) % len(finished)])
            for cast_id, gid in sorted(chosen):
                meta = self._meta[(cast_id, gid)]
                meta.contacts.append(contact)
                campaign = campaigns[(cast_id, gid)]
                campaign["TOTAL"] += 1
                campaign["FINISHED"] += 1
                # A campaign of this contact alone, so every event drawn is theirs.
                own = CampaignMeta(cast_id, gid, meta.created_epoch, [contact], meta.rich)
                moment = meta.created_epoch + 3600 + 60 * person.number
                types = ["delivered", "view", "play"] + (["action"] * (person.number % 2 == 0))
                for step, etype in enumerate(types):
                    stamp = iso_naive(moment + 30 * step)
                    event = self._new_event(rng, own, etype, stamp, set(), {})
                    key = (cast_id, gid, etype)
                    self._events[key] = sorted(
                        [*self._events[key], event], key=lambda e: e["event_at"], reverse=True
                    )
        self._analytics_cache.clear()

    @staticmethod
    def _split_counts(
        rng: random.Random, cast_index: int, per_cast: int, per_type: int
    ) -> list[list[int]]:
        """Per event type, the event count of each campaign (rows sum to per_cast * per_type)."""
        rows = []
        for type_index in range(len(EVENT_TYPES)):
            row = [per_type] * per_cast
            for position in range(
                0, per_cast - 1, 2
            ):  # move a few events between pairs: uneven but exact totals
                moved = rng.randint(0, per_type // 4)
                row[position] += moved
                row[position + 1] -= moved
            if cast_index == 0 and per_cast >= 2 and EVENT_TYPES[type_index] == "feedback":
                row[1] += row[0]  # an empty partition: campaign 0 of the first cast has no feedback
                row[0] = 0
            rows.append(row)
        return rows

    def _make_campaign(
        self,
        rng: random.Random,
        campaign_index: int,
        cid: int,
        cast_id: int,
        gid: str,
        created: int,
        n_contacts: int,
    ) -> dict[str, Any]:
        name = CAMPAIGN_NAMES[campaign_index % len(CAMPAIGN_NAMES)]
        if campaign_index >= len(CAMPAIGN_NAMES):
            name = f"{name} #{campaign_index // len(CAMPAIGN_NAMES) + 1}"
        # Status variety; counters always satisfy PROCESSING+FINISHED+FAILED+SKIPPED == TOTAL.
        # ASSUMPTION: campaign status enum is unpublished; FINISHED is documented, the others
        # mirror the counters.
        total = n_contacts
        processing = failed = skipped = 0
        error = None
        status = "FINISHED"
        if campaign_index % 7 == 3:
            status, processing = "PROCESSING", rng.randint(1, max(1, total // 2))
        elif campaign_index % 7 == 5:
            status, failed = "FAILED", rng.randint(1, total)
            error = f"Generation failed for {failed} contact(s): missing value for {{first_name}}"
        elif rng.random() < 0.3:
            skipped = 1
        finished = total - processing - failed - skipped
        # ASSUMPTION: delivery/scheduled date formats are unpublished; same format as created_at.
        delivery_date = (
            iso_ms_z(created + 3600, rng.randint(0, 999)) if campaign_index % 3 == 0 else None
        )
        scheduled = campaign_index % 4 == 1
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
            "is_archived": campaign_index % 5 == 4,
            "created_at": iso_ms_z(created, rng.randint(0, 999)),
            "delivery_reminders": [],  # item shape unpublished
            "delivery_date": delivery_date,
            "scheduled_delivery_id": f"{rng.getrandbits(128):032x}" if scheduled else None,
            "scheduled_delivery_date": iso_ms_z(created + 86400, 0) if scheduled else None,
            # all dates are in the past, so a schedule has fired
            "schedule_delivery_occurred": scheduled,
        }
        fixture = self.fixtures["campaign"]
        out = {
            key: values[key] if key in values else copy.deepcopy(value)
            for key, value in fixture.items()
        }
        for (
            key,
            value,
        ) in values.items():  # documented fields missing from a replaced fixture are still served
            out.setdefault(key, value)
        return out

    def _new_event(
        self, rng: random.Random, meta: CampaignMeta, etype: str, stamp: str, seen: set, tmpl: dict
    ) -> dict[str, Any]:
        """One event of ``etype`` at ``stamp``, unique within ``seen``. ``tmpl`` caches the constant
        part of the event per (contact, device, ip)."""
        rnd = rng.random
        contacts = meta.contacts
        for attempt in range(50):
            contact = contacts[int(rnd() * len(contacts))]
            devs = contact.devices
            dev = devs[0] if len(devs) == 1 or rnd() < 0.8 else devs[int(rnd() * len(devs))]
            address = contact.ips[int(rnd() * len(contact.ips))] if attempt < 10 else random_ip(rng)
            key = (stamp, contact.id, address, dev[0], dev[1], dev[2])
            if key not in seen:
                seen.add(key)
                break
        else:  # pragma: no cover - 40 tries with fresh IPs practically never collide
            raise RuntimeError("could not generate a unique event")
        tkey = (contact.id, address, dev)
        base = tmpl.get(tkey)
        if base is None:
            values = {
                "event_at": stamp,
                "ip_address": address,
                "event_type": etype,
                "contact_id": contact.id,
                "contact_email": contact.email,
                "contact_name": contact.name,
                "contact_phone": contact.phone,
                "device_type": dev[0],
                "os_name": dev[1],
                "browser_name": dev[2],
                "status": contact.status,
            }
            fixture = self.fixtures["analytics_event"]
            base = tmpl[tkey] = {
                k: values[k] if k in values else fixture[k] for k in self._event_keys
            }
        event = base.copy()
        if "event_at" in event:
            event["event_at"] = stamp
        return event

    def _make_events(
        self, rng: random.Random, meta: CampaignMeta, etype: str, count: int
    ) -> list[dict[str, Any]]:
        if count <= 0:
            return []
        rnd = rng.random
        moment = meta.created_epoch + rng.randint(60, 3 * 3600)
        max_gap = int(min(4 * 3600, max(2, 2 * 14 * 86400 // count)))
        seen: set = set()
        tmpl: dict = {}
        events = []
        stamp_t, stamp = -1, ""
        for _ in range(count):
            if moment != stamp_t:
                stamp_t, stamp = moment, iso_naive(moment)
            events.append(self._new_event(rng, meta, etype, stamp, seen, tmpl))
            draw = rnd()
            # Ties (same second) are frequent on purpose; short bursts look like the documented
            # sample.
            if draw >= 0.15:
                moment += 1 + int(rnd() * (60 if draw < 0.4 else max_gap))
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
        for campaign in self._campaigns.get(cast, ()):
            if campaign["generate_group"] == generation_id:
                return campaign
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
        by_type = {t: self._events[(cast_id, gid, t)] for t in EVENT_TYPES}
        out: dict[str, Any] = {}
        for name, fixture in self.fixtures["analytics"].items():
            if name == "summary":
                out[name] = self._summary(by_type, fixture)
            elif name == "timeline":
                out[name] = self._timeline(by_type, fixture)
            elif name == "user_agents":
                out[name] = self._user_agents(by_type["view"])
            elif name == "languages":
                out[name] = self._languages(meta, by_type["view"])
            elif name == "scenes_watched":
                out[name] = self._breakdown(by_type["play"], meta.rich, "scene")
            elif name == "actions_clicked":
                out[name] = self._breakdown(by_type["action"], meta.rich, "action")
            elif name == "feedbacks":
                out[name] = self._breakdown(by_type["feedback"], meta.rich, "feedback")
            else:  # a key only present in a replaced fixture: serve the sample's value
                out[name] = copy.deepcopy(fixture)
        return out

    @staticmethod
    def _summary(
        by_type: dict[str, list[dict[str, Any]]], fixture: dict[str, Any]
    ) -> dict[str, Any]:
        out = {}
        for key, value in fixture.items():
            match = SUMMARY_KEY.match(key)
            if match and match.group(2) in by_type:
                events = by_type[match.group(2)]
                out[key] = (
                    len(events)
                    if match.group(1) == "total"
                    else len({e["contact_id"] for e in events})
                )
            else:
                out[key] = value
        return out

    @staticmethod
    def _timeline(
        by_type: dict[str, list[dict[str, Any]]], fixture: dict[str, Any]
    ) -> dict[str, Any]:
        # ASSUMPTION: the docs show only a "view" series. We emit one series per event type that has
        # events, "delivered" included; types without events are omitted (play has none in the doc
        # sample and no "play" key appears). Buckets are hourly (frequency "1H"), ascending, empty
        # hours omitted (the sample skips 14:00-16:00). Timezone: same naive clock as event_at
        # (UTC assumed).
        items: dict[str, list[dict[str, Any]]] = {}
        for etype in EVENT_TYPES:
            events = by_type[etype]
            if not events:
                continue
            buckets: dict[str, int] = {}
            for event in events:
                bucket = event["event_at"][:13] + ":00:00"
                buckets[bucket] = buckets.get(bucket, 0) + 1
            items[etype] = [
                {"event_dt": bucket, "count": buckets[bucket]} for bucket in sorted(buckets)
            ]
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
        out = {
            key: values[key] if key in values else copy.deepcopy(value)
            for key, value in fixture.items()
        }
        for key, value in values.items():
            out.setdefault(key, value)
        return out

    @staticmethod
    def _user_agents(views: list[dict[str, Any]]) -> dict[str, Any]:
        # Matches the sample: count = distinct viewing contacts per device type (sample:
        # unique_view 3 -> desktop.count 3); orientation splits that count. "mobile" and
        # "desktop" are always present (the sample shows mobile with 0).
        # ASSUMPTION: orientation is a fixed property of (contact, device); desktop is always
        # landscape.
        per_device: dict[str, set[str]] = {"mobile": set(), "desktop": set()}
        for event in views:
            per_device.setdefault(event["device_type"], set()).add(event["contact_id"])
        out = {}
        for device, contacts in per_device.items():
            portrait = 0
            for cid in contacts:
                digest = stable_hash(cid, device)
                if (device == "mobile" and digest % 5 != 0) or (
                    device not in ("mobile", "desktop") and digest % 2 == 0
                ):
                    portrait += 1
            out[device] = {
                "count": len(contacts),
                "orientation": {"portrait": portrait, "landscape": len(contacts) - portrait},
            }
        return out

    @staticmethod
    def _languages(meta: CampaignMeta, views: list[dict[str, Any]]) -> dict[str, int]:
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
        pool: list = SCENES if kind == "scene" else ACTIONS if kind == "action" else FEEDBACKS
        counts = [0] * len(pool)
        for event in events:
            counts[
                stable_hash(event["event_at"], event["contact_id"], event["ip_address"]) % len(pool)
            ] += 1
        out = []
        for position, count in enumerate(counts):
            if not count:
                continue
            if kind == "scene":
                out.append({"scene_index": position, "scene_name": pool[position], "count": count})
            elif kind == "action":
                out.append(
                    {
                        "action_label": pool[position][0],
                        "action_url": pool[position][1],
                        "count": count,
                    }
                )
            else:
                out.append({"feedback": pool[position], "count": count})
        return out

    def cross_campaign_entry(self, cast_id: int | str, generation_id: str) -> dict[str, Any]:
        # Counters are event totals (loadTime == summary.total_view, ...).
        cast = self._cast(cast_id)
        out = {}
        for key, value in self.fixtures["cross_campaign_entry"].items():
            etype = CROSS_CAMPAIGN_KEYS.get(key)
            out[key] = (
                len(self._events[(cast, generation_id, etype)]) if etype else copy.deepcopy(value)
            )
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
        self,
        cast_id: int | str,
        generation_id: str,
        event_type: str,
        count: int,
        at: str | None = None,
    ) -> list[dict[str, Any]]:
        """Add ``count`` events to a partition and return copies of them.

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
            seen = {uniq_key(e) for e in existing}
            tmpl: dict = {}
            new = []
            if at is None:
                moment = (
                    parse_naive(existing[0]["event_at"]) if existing else meta.created_epoch
                ) + rng.randint(1, 30)
                for _ in range(count):
                    new.append(
                        self._new_event(rng, meta, event_type, iso_naive(moment), seen, tmpl)
                    )
                    moment += 0 if rng.random() < 0.3 else rng.randint(1, 5)
            else:
                stamp = iso_naive(parse_naive(at))
                new = [
                    self._new_event(rng, meta, event_type, stamp, seen, tmpl) for _ in range(count)
                ]
            # Stable sort: existing order kept; new events go after existing ones of the same
            # second.
            self._events[key] = sorted(existing + new, key=lambda e: e["event_at"], reverse=True)
            self._analytics_cache.pop((cast, generation_id), None)
            self.version += 1
            return [dict(e) for e in new]

    def delete_events(
        self, cast_id: int | str, generation_id: str, event_type: str, count: int
    ) -> list[dict[str, Any]]:
        """Delete the ``count`` newest events of a partition and return copies of them."""
        key = (self._cast(cast_id), generation_id, event_type)
        with self._lock:
            deleted = self._events[key][:count]
            self._events[key] = self._events[key][count:]
            self._analytics_cache.pop(key[:2], None)
            self.version += 1
            return [dict(e) for e in deleted]

    def rename_generation(self, cast_id: int | str, old: str, new: str) -> None:
        """Give a campaign another generate_group, e.g. one holding URL-reserved characters.

        ASSUMPTION: the docs only show ``YYYYMMDD_<base62>`` ids; nothing promises that every
        id is URL-safe, so clients must escape them in paths.
        """
        cast = self._cast(cast_id)
        with self._lock:
            if (cast, new) in self._meta:
                raise ValueError(f"generation id {new!r} already exists in cast {cast}")
            meta = self._meta.pop((cast, old))
            meta.generation_id = new
            self._meta[(cast, new)] = meta
            for etype in EVENT_TYPES:
                self._events[(cast, new, etype)] = self._events.pop((cast, old, etype))
            self._analytics_cache.pop((cast, old), None)
            for campaign in self._campaigns[cast]:
                if campaign["generate_group"] == old:
                    campaign["generate_group"] = new
            self.version += 1

    # ------------------------------------------------------------------ ground truth
    def ground_truth(self) -> dict[str, Any]:
        """Everything the API serves, as flat lists (raw objects, API order). Switches on CastAPI
        (gone_generations, event_order) are not applied."""
        with self._lock:
            campaigns, analytics, timeline, events, cross = [], [], [], [], []
            for cast_id in self._campaigns:
                for campaign in self.campaigns(cast_id):
                    gid = campaign["generate_group"]
                    campaigns.append(copy.deepcopy(campaign))
                    campaign_analytics = copy.deepcopy(self.analytics(cast_id, gid))
                    analytics.append(
                        {"cast_id": cast_id, "generation_id": gid, "analytics": campaign_analytics}
                    )
                    timeline_object = campaign_analytics.get("timeline") or {}
                    for etype, series in (timeline_object.get("items") or {}).items():
                        for point in series:
                            timeline.append(
                                {
                                    "cast_id": cast_id,
                                    "generation_id": gid,
                                    "event_type": etype,
                                    "event_dt": point["event_dt"],
                                    "count": point["count"],
                                    "frequency": timeline_object.get("frequency"),
                                }
                            )
                    for etype in EVENT_TYPES:
                        for event in self._events[(cast_id, gid, etype)]:
                            events.append({**event, "cast_id": cast_id, "generation_id": gid})
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
