"""What the fixtures in ``data/fixtures/webcasts`` say the responses look like.

Only the login sample is public; every other shape (element names, CSV headers) is an
assumption kept in the fixtures, so a real sample can replace it without code changes.
:class:`Shapes` turns them into the templates the renderers fill.
"""

from __future__ import annotations

import re
from typing import Any

from ..server import json_text
from .common import RC_SUCCESS, xml_text


class Shapes:
    """Envelopes and element names of every response, read once from the fixtures."""

    def __init__(self, fixtures: dict[str, Any]) -> None:
        self.fixtures = fixtures
        self._read_login_xml(fixtures["login.xml"])

        login = fixtures["login"]
        (self.json_root,) = login.keys()
        self.json_envelope: dict[str, Any] = login[self.json_root]

        envelope = fixtures["envelope"]
        self.error: dict[str, str] = envelope["error"]
        self.attribute_prefix: str = envelope["json"]["attribute_prefix"]
        self.text_key: str = envelope["json"]["text_key"]
        self.eventlist: dict[str, Any] = fixtures["eventlist"]
        self.report: dict[str, Any] = fixtures["audiencereport"]
        self.csv: dict[str, Any] = fixtures["audiencereport_csv"]

        # Element names of the attendee's lists: (list, item, label attribute) of the
        # registration fields; (container, [(type, list, item)], fields) of the sessions;
        # (list, item, fields) of the questions and of the survey answers.
        report = self.report
        fields = report["registration_fields"]
        self.registration_fields: tuple[str, str, str] = (
            fields["list"],
            fields["item"],
            fields["label_attribute"],
        )
        sessions = report["sessions"]
        self.sessions: tuple[str, list[tuple[str, str, str]], dict[str, str]] = (
            sessions["container"],
            [
                (k, sessions["types"][k]["list"], sessions["types"][k]["item"])
                for k in sessions["types"]
            ],
            sessions["fields"],
        )
        questions, surveys = report["questions"], report["surveys"]
        self.questions: tuple[str, str, dict[str, str]] = (
            questions["list"],
            questions["item"],
            questions["fields"],
        )
        self.surveys: tuple[str, str, dict[str, str]] = (
            surveys["list"],
            surveys["item"],
            surveys["fields"],
        )

    def _read_login_xml(self, sample: str) -> None:
        """The XML envelope: what comes before returnCode, between it and the payload, after."""
        return_code = re.search(r"<returnCode>\s*1\s*</returnCode>", sample)
        success_open = sample.find("<success>")
        success_close = sample.rfind("</success>")
        if return_code is None or success_open < 0 or success_close < 0:
            raise ValueError("login.xml: expected result/returnCode 1 and result/success")
        head = sample[: return_code.start()]
        # whitespace between returnCode and success
        self.xml_between = sample[return_code.end() : success_open]
        self.xml_tail = sample[success_close + len("</success>") :]
        head = re.sub(r"(<currentDateTime>)[^<]*", "\\1\x00DT\x00", head, count=1)
        head = re.sub(r"(<currentTimeZone>)[^<]*", "\\1\x00TZ\x00", head, count=1)
        self.xml_head = head
        root = re.search(r"<([A-Za-z_][\w.-]*)[\s>]", re.sub(r"<\?.*?\?>", "", head, count=1))
        self.xml_root = root.group(1) if root else "convey_api"

    # ------------------------------------------------------------------ envelopes
    def xml_open(self, tz_name: str, now: str, doctype: str = "") -> str:
        """The XML envelope up to the payload of ``result/success``."""
        head = self.xml_head.replace("\x00DT\x00", xml_text(now)).replace(
            "\x00TZ\x00", xml_text(tz_name)
        )
        if doctype:
            root_at = head.find(f"<{self.xml_root}")
            head = f"{head[:root_at]}<!DOCTYPE {self.xml_root} [\n{doctype}]>\n{head[root_at:]}"
        return f"{head}<returnCode>{RC_SUCCESS}</returnCode>{self.xml_between}<success>"

    def xml_close(self) -> str:
        return f"</success>{self.xml_tail}"

    def json_envelope_parts(
        self, tz_name: str, now: str, code: int, payload_key: str
    ) -> tuple[str, str]:
        """(before, after) the payload of ``result/<payload_key>``, from login.json's envelope."""
        envelope = dict(self.json_envelope)
        envelope["currentDateTime"] = now
        envelope["currentTimeZone"] = tz_name
        result = {k: v for k, v in envelope.get("result", {}).items() if k != "success"}
        result["returnCode"] = code
        result[payload_key] = "\x00PAYLOAD\x00"
        envelope["result"] = result
        text = json_text({self.json_root: envelope})
        before, _, after = text.partition('"\\u0000PAYLOAD\\u0000"')
        return before, after
