"""JSON rendering: the envelope's payloads, the event list and the streamed audience report.

The JSON variant is the XML tree converted to JSON (ASSUMPTION, see :class:`JsonStyle`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

from ..server import json_text
from .common import CHUNK, RC_SUCCESS, TimeFormatter, WebcastsError
from .model import Event, Registrant
from .query import ReportQuery
from .shapes import Shapes


@dataclass(frozen=True)
class JsonStyle:
    """How XML-to-JSON conversion shows in the JSON variant (WebcastsAPI switches)."""

    collapse_single_lists: bool = True  # one element -> the object, none -> ""
    numbers_as_strings: bool = True  # numeric leaves as JSON strings

    def number(self, value: int) -> int | str:
        return str(value) if self.numbers_as_strings else value

    def listing(self, item: str, items: list[Any]) -> Any:
        """A list element: ``{item: [...]}``, collapsed when the style says so."""
        if self.collapse_single_lists:
            if not items:
                return ""
            if len(items) == 1:
                return {item: items[0]}
        return {item: items}

    def listing_text(self, item: str, elements: list[str]) -> str:
        """:meth:`listing` of elements that are JSON text already (``item`` too)."""
        if self.collapse_single_lists:
            if not elements:
                return '""'
            if len(elements) == 1:
                return f"{{{item}:{elements[0]}}}"
        return f"{{{item}:[{','.join(elements)}]}}"


def json_error(shapes: Shapes, style: JsonStyle, error: WebcastsError, now: str) -> str:
    names = shapes.error
    before, after = shapes.json_envelope_parts("GMT", now, error.code, names["element"])
    payload = {names["code"]: style.number(error.code), names["message"]: error.message}
    return before + json_text(payload) + after


def json_login(shapes: Shapes, now: str, session_id: str, user_id: str) -> str:
    envelope = copy.deepcopy(shapes.json_envelope)
    envelope["currentDateTime"] = now
    envelope["currentTimeZone"] = "GMT"
    success = envelope["result"]["success"]
    success["sessionid"]["value"] = session_id
    success["userid"]["value"] = user_id
    return json_text({shapes.json_root: envelope})


def json_eventlist(shapes: Shapes, style: JsonStyle, rows: list[dict[str, Any]], now: str) -> str:
    """``rows``: one dict of element name -> value per event."""
    shape = shapes.eventlist
    before, after = shapes.json_envelope_parts("GMT", now, RC_SUCCESS, "success")
    items = [{k: style.number(v) if isinstance(v, int) else v for k, v in r.items()} for r in rows]
    payload = {shape["list"]: style.listing(shape["item"], items)}
    return before + json_text(payload) + after


def attendee_json(
    shapes: Shapes,
    style: JsonStyle,
    labels: Iterable[str],
    registrant: Registrant,
    fmt: TimeFormatter,
) -> dict[str, Any]:
    """The JSON object of one attendee (same tree as the XML element)."""
    report, prefix, text_key = shapes.report, shapes.attribute_prefix, shapes.text_key
    values = {
        "first_name": registrant.first_name,
        "last_name": registrant.last_name,
        "company": registrant.company,
        "registration_date": fmt(registrant.registered),
        "sti": registrant.sti,
    }
    out: dict[str, Any] = {prefix + report["email_attribute"]: registrant.email}
    for key, name in report["fields"].items():
        out[name] = values[key]
    list_name, item, label_attribute = shapes.registration_fields
    pairs = zip(labels, registrant.fields, strict=True)
    out[list_name] = style.listing(
        item, [{prefix + label_attribute: lb, text_key: v} for lb, v in pairs]
    )
    container, types, fields = shapes.sessions
    out[container] = {
        session_list: style.listing(
            session_item,
            [
                {
                    fields["start"]: fmt(s),
                    fields["end"]: fmt(e),
                    fields["duration"]: style.number(e - s),
                }
                for k, s, e in registrant.sessions
                if k == kind
            ],
        )
        for kind, session_list, session_item in types
    }
    list_name, item, fields = shapes.questions
    out[list_name] = style.listing(
        item,
        [
            {fields["asked_at"]: fmt(t), fields["text"]: q, fields["answer"]: a}
            for t, q, a in registrant.questions
        ],
    )
    list_name, item, fields = shapes.surveys
    out[list_name] = style.listing(
        item,
        [
            {
                fields["survey"]: s,
                fields["question"]: q,
                fields["answer"]: a,
                fields["answered_at"]: fmt(t),
            }
            for s, q, a, t in registrant.surveys
        ],
    )
    return out


def json_report(
    shapes: Shapes,
    style: JsonStyle,
    query: ReportQuery,
    now: str,
    registrants: Iterable[Registrant],
    *,
    unwrapped: bool = False,
) -> Iterator[str]:
    """The audience report in pieces of about :data:`CHUNK` characters.

    ``unwrapped``: the attendee list is a bare array, without its ``attendee`` wrapper
    (WebcastsAPI.json_attendee_list_unwrapped).
    """
    event = query.event
    report = shapes.report
    before, after = shapes.json_envelope_parts(query.tz_name, now, RC_SUCCESS, "success")
    head = json_text({report["ei"]: style.number(event.ei), report["title"]: event.title})[:-1]
    remaining = iter(registrants)
    render = json_attendee_renderer(shapes, style, event, query.formatter)
    first = list(islice(remaining, 2))  # look ahead: 0/1 items may collapse
    item = json_text(report["item"])
    prefix = f"{before}{head},{json_text(report['list'])}:"
    if unwrapped:
        opening, closing = "[", f"]}}{after}"
    elif style.collapse_single_lists and len(first) < 2:
        if not first:
            yield f'{prefix}""}}{after}'
        else:
            yield f"{prefix}{{{item}:{render(first[0])}}}}}{after}"
        return
    else:
        opening, closing = f"{{{item}:[", f"]}}}}{after}"
    parts = [f"{prefix}{opening}"]
    size = 0
    separator = ""
    for registrant in chain(first, remaining):
        text = render(registrant)
        parts.append(separator)
        parts.append(text)
        separator = ","
        size += len(text)
        if size >= CHUNK:
            yield "".join(parts)
            parts = []
            size = 0
    parts.append(closing)
    yield "".join(parts)


# ----------------------------------------------------------------------------- attendees
def _template(pairs: list[tuple[str, str]]) -> str:
    """A str.format template of one JSON object; values are inserted already encoded
    (``"\\x00"`` marks where a value goes)."""
    body = ",".join(f"{json_text(k)}:{v}" for k, v in pairs)
    return "{{" + body.replace("{", "{{").replace("}", "}}").replace("\x00", "{}") + "}}"


def _persona_cache(
    shapes: Shapes, style: JsonStyle, event: Event, fmt: TimeFormatter
) -> Callable[[Registrant], tuple[str, str]]:
    """Per persona: the members before and after registration_date, serialised once from
    :func:`attendee_json` (the reference implementation)."""
    email_key = shapes.attribute_prefix + shapes.report["email_attribute"]
    date_key = shapes.report["fields"].get("registration_date")
    per_registrant = (shapes.sessions[0], shapes.questions[0], shapes.surveys[0])
    cache: dict[int, tuple[str, str]] = {}

    def persona_parts(registrant: Registrant) -> tuple[str, str]:
        parts = cache.get(registrant.persona)
        if parts is not None:
            return parts
        members = attendee_json(shapes, style, event.labels, registrant, fmt)
        del members[email_key]
        for key in per_registrant:
            del members[key]
        if date_key is not None:
            members[date_key] = "\x00"
        text = json_text(members)[1:-1]  # the members, without braces
        before, _, after = text.partition('"\\u0000"')
        parts = cache[registrant.persona] = (before, after)
        return parts

    return persona_parts


def json_attendee_renderer(
    shapes: Shapes, style: JsonStyle, event: Event, fmt: TimeFormatter
) -> Callable[[Registrant], str]:
    """Fast JSON text of one attendee: the same text as ``json_text(attendee_json(...))``
    (the reference implementation), with per-persona parts serialised once."""
    listing = style.listing_text
    encoded: dict[str, str] = {}

    def encode(value: str) -> str:
        text = encoded.get(value)
        if text is None:
            text = encoded[value] = json_text(value)
        return text

    email_key = json_text(shapes.attribute_prefix + shapes.report["email_attribute"])
    container, types, fields = shapes.sessions
    session_templates = [
        (
            kind,
            json_text(list_name),
            json_text(item),
            _template(
                [
                    (fields["start"], '"\x00"'),
                    (fields["end"], '"\x00"'),
                    (fields["duration"], "\x00"),
                ]
            ),
        )
        for kind, list_name, item in types
    ]
    as_text = style.numbers_as_strings
    question_list, question_item, question_fields = shapes.questions
    question_template = _template(
        [
            (question_fields["asked_at"], '"\x00"'),
            (question_fields["text"], "\x00"),
            (question_fields["answer"], "\x00"),
        ]
    )
    survey_list, survey_item, survey_fields = shapes.surveys
    survey_template = _template(
        [
            (survey_fields["survey"], "\x00"),
            (survey_fields["question"], "\x00"),
            (survey_fields["answer"], "\x00"),
            (survey_fields["answered_at"], '"\x00"'),
        ]
    )
    container_key, questions_key, surveys_key = (
        json_text(container),
        json_text(question_list),
        json_text(survey_list),
    )
    question_item_key, survey_item_key = json_text(question_item), json_text(survey_item)
    has_date = shapes.report["fields"].get("registration_date") is not None
    persona_parts = _persona_cache(shapes, style, event, fmt)

    def render(registrant: Registrant) -> str:
        before, after = persona_parts(registrant)
        date = f'"{fmt(registrant.registered)}"' if has_date else ""
        out = [f'{{{email_key}:"{registrant.email}",{before}{date}{after},{container_key}:{{']
        sessions = registrant.sessions
        separator = ""
        for kind, list_key, item_key, template in session_templates:
            items = [
                template.format(fmt(b), fmt(e), f'"{e - b}"' if as_text else e - b)
                for k, b, e in sessions
                if k == kind
            ]
            out.append(f"{separator}{list_key}:{listing(item_key, items)}")
            separator = ","
        out.append("},")
        questions = [
            question_template.format(fmt(t), encode(q), encode(a))
            for t, q, a in registrant.questions
        ]
        out.append(f"{questions_key}:{listing(question_item_key, questions)},")
        answers = [
            survey_template.format(encode(s), encode(q), encode(a), fmt(t))
            for s, q, a, t in registrant.surveys
        ]
        out.append(f"{surveys_key}:{listing(survey_item_key, answers)}}}")
        return "".join(out)

    return render
