"""XML rendering: the envelope's payloads, the event list and the streamed audience report."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .common import CHUNK, TimeFormatter, WebcastsError, xml_attribute, xml_text
from .model import Event, Registrant
from .query import ReportQuery
from .shapes import Shapes

# Entity attack variants (api.entity_expansion_for / api.external_entity_for): the DOCTYPE
# and the entity reference served as the event title.
_LAUGHS = "".join(
    ['  <!ENTITY lol0 "lol">\n']
    + [f'  <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10)]
)
ENTITY_ATTACKS: dict[str, tuple[str, str]] = {
    "expansion": (_LAUGHS, "&lol9;"),
    "external": ('  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n', "&xxe;"),
}


def xml_error(shapes: Shapes, error: WebcastsError, now: str) -> str:
    head = shapes.xml_head.replace("\x00DT\x00", now).replace("\x00TZ\x00", "GMT")
    names = shapes.error
    element, code, message = names["element"], names["code"], names["message"]
    return (
        f"{head}<returnCode>{error.code}</returnCode>{shapes.xml_between}<{element}>"
        f"<{code}>{error.code}</{code}><{message}>{xml_text(error.message)}"
        f"</{message}></{element}>{shapes.xml_tail}"
    )


def xml_login(sample: str, now: str, session_id: str, user_id: str) -> str:
    """The login sample with the current time and the new session's si and ui."""
    xml = re.sub(r"(<currentDateTime>)[^<]*", lambda m: m.group(1) + now, sample, count=1)
    xml = re.sub(
        r"(<sessionid>.*?<value>)[^<]*", lambda m: m.group(1) + session_id, xml, count=1, flags=re.S
    )
    return re.sub(
        r"(<userid>.*?<value>)[^<]*", lambda m: m.group(1) + user_id, xml, count=1, flags=re.S
    )


def xml_eventlist(shapes: Shapes, rows: list[dict[str, Any]], now: str) -> str:
    """``rows``: one dict of element name -> value per event."""
    shape = shapes.eventlist
    item = shape["item"]
    parts = [shapes.xml_open("GMT", now), f"<{shape['list']}>"]
    for row in rows:
        parts.append(f"<{item}>")
        parts.extend(f"<{k}>{xml_text(str(v))}</{k}>" for k, v in row.items())
        parts.append(f"</{item}>")
    parts.append(f"</{shape['list']}>")
    parts.append(shapes.xml_close())
    return "".join(parts)


def xml_report(
    shapes: Shapes,
    query: ReportQuery,
    now: str,
    registrants: Iterable[Registrant],
    *,
    attack: str | None = None,
    malformed: bool = False,
) -> Iterator[str]:
    """The audience report in pieces of about :data:`CHUNK` characters.

    ``attack``: a key of :data:`ENTITY_ATTACKS`; ``malformed``: the document is cut inside an
    attendee (the HTTP response itself completes normally).
    """
    event = query.event
    report = shapes.report
    doctype, title = ENTITY_ATTACKS[attack] if attack else ("", xml_text(event.title))
    cut_at = max(1, event.n_registrants // 2)  # malformed: cut inside the attendee at this index
    list_name = report["list"]
    parts = [
        shapes.xml_open(query.tz_name, now, doctype),
        f"<{report['ei']}>{event.ei}</{report['ei']}><{report['title']}>{title}</{report['title']}>"
        f"<{list_name}>",
    ]
    size = 0
    render = xml_attendee_renderer(shapes, event, query.formatter)
    for registrant in registrants:
        text = render(registrant)
        if malformed and registrant.index >= cut_at - 1:
            parts.append(text[: len(text) // 2])
            yield "".join(parts)
            return  # truncated mid-document (the HTTP response itself completes normally)
        parts.append(text)
        size += len(text)
        if size >= CHUNK:
            yield "".join(parts)
            parts = []
            size = 0
    tail = f"</{list_name}>{shapes.xml_close()}"
    if malformed:
        tail = tail[: len(tail) // 2]
    parts.append(tail)
    yield "".join(parts)


# ----------------------------------------------------------------------------- attendees
#: str.format of one element with positional values, e.g. a session's start, end, duration.
Formatter = Callable[..., str]


def _element_format(item: str, names: list[str]) -> Formatter:
    """``<item><a>{}</a><b>{}</b>...</item>``.format."""
    return (f"<{item}>" + "".join(f"<{n}>{{}}</{n}>" for n in names) + f"</{item}>").format


def _session_templates(
    shapes: Shapes,
) -> tuple[list[str], dict[str, tuple[str, str, Formatter]], str, str, str]:
    """(types in API order, type -> (list open, list close, session format), container
    open, container close, the container of a registrant without sessions)."""
    container, types, fields = shapes.sessions
    names = [fields["start"], fields["end"], fields["duration"]]
    templates = {
        kind: (f"<{list_name}>", f"</{list_name}>", _element_format(item, names))
        for kind, list_name, item in types
    }
    kinds = [kind for kind, _, _ in types]
    container_open, container_close = f"<{container}>", f"</{container}>"
    empty = container_open + "".join(f"<{n}></{n}>" for _, n, _ in types) + container_close
    return kinds, templates, container_open, container_close, empty


def _persona_cache(shapes: Shapes, event: Event) -> Callable[[Registrant], tuple[str, str]]:
    """Per persona: the element text before and after registration_date (escaped once)."""
    report = shapes.report
    core_format = (
        '">' + "".join(f"<{n}>{{{k}}}</{n}>" for k, n in report["fields"].items())
    ).format
    list_name, item, label_attribute = shapes.registration_fields
    field_maps = [
        {
            v: f'<{item} {label_attribute}="{xml_attribute(label)}">{xml_text(v)}</{item}>'
            for v in pool
        }
        for label, pool in zip(event.labels, event.field_pools, strict=True)
    ]
    fields_open, fields_close = f"<{list_name}>", f"</{list_name}>"
    cache: dict[int, tuple[str, str]] = {}

    def persona_parts(registrant: Registrant) -> tuple[str, str]:
        parts = cache.get(registrant.persona)
        if parts is not None:
            return parts
        core = core_format(
            first_name=xml_text(registrant.first_name),
            last_name=xml_text(registrant.last_name),
            company=xml_text(registrant.company),
            registration_date="\x00",
            sti=xml_text(registrant.sti),
        )
        before, _, after = core.partition("\x00")
        values = "".join([m[v] for m, v in zip(field_maps, registrant.fields, strict=True)])
        parts = cache[registrant.persona] = (before, f"{after}{fields_open}{values}{fields_close}")
        return parts

    return persona_parts


def xml_attendee_renderer(
    shapes: Shapes, event: Event, fmt: TimeFormatter
) -> Callable[[Registrant], str]:
    """A fast renderer of the XML attendee element for one event and time zone (the element
    names come from the audiencereport fixture; pool values are escaped once)."""
    report = shapes.report
    esc = xml_text
    item = report["item"]
    open_item = f'<{item} {report["email_attribute"]}="'
    kinds, session_templates, container_open, container_close, no_sessions = _session_templates(
        shapes
    )
    question_list, question_item, question_fields = shapes.questions
    questions_open, questions_close = f"<{question_list}>", f"</{question_list}>"
    question_format = _element_format(
        question_item,
        [question_fields["asked_at"], question_fields["text"], question_fields["answer"]],
    )
    survey_list, survey_item, survey_fields = shapes.surveys
    surveys_open = f"<{survey_list}>"
    survey_format = _element_format(
        survey_item,
        [
            survey_fields["survey"],
            survey_fields["question"],
            survey_fields["answer"],
            survey_fields["answered_at"],
        ],
    )
    end_item = f"</{survey_list}></{item}>\n"
    has_date = "registration_date" in report["fields"]
    persona_parts = _persona_cache(shapes, event)

    def render(registrant: Registrant) -> str:
        before, after = persona_parts(registrant)
        # Emails are built from pools of [a-z.] slugs and plain domains (checked at import):
        # nothing to escape.
        date = fmt(registrant.registered) if has_date else ""
        out = [open_item, registrant.email, before, date, after]
        sessions = registrant.sessions
        if not sessions:
            out.append(no_sessions)
        else:
            out.append(container_open)
            for kind in kinds:
                list_open, list_close, session_format = session_templates[kind]
                out.append(list_open)
                out += [session_format(fmt(a), fmt(b), b - a) for k, a, b in sessions if k == kind]
                out.append(list_close)
            out.append(container_close)
        out.append(questions_open)
        out += [question_format(fmt(t), esc(q), esc(a)) for t, q, a in registrant.questions]
        out.append(questions_close)
        out.append(surveys_open)
        out += [survey_format(esc(s), esc(q), esc(a), fmt(t)) for s, q, a, t in registrant.surveys]
        out.append(end_item)
        return "".join(out)

    return render
