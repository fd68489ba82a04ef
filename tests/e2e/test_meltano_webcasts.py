"""`meltano run tap-webcasts target-duckdb` against the Webcasts.com sandbox."""

from __future__ import annotations

import duckdb
import pytest

from sandbox import WebcastsDataset, start_webcasts_sandbox
from tests.helpers import WEBCASTS_PASSWORD as PASSWORD
from tests.helpers import WEBCASTS_USERNAME as USERNAME

pytestmark = pytest.mark.e2e

KEYS = {
    "events": "ei",
    "audience": "ei, email",
    "audience_sessions": "ei, email, session_type, session_start",
    "audience_questions": "question_key",
    "audience_survey_answers": "answer_key",
}


def table_facts(path) -> dict[str, tuple[int, int]]:
    with duckdb.connect(str(path), read_only=True) as db:
        return {
            table: db.execute(
                f"select count(*), count(distinct ({key})) from tap_webcasts.{table}"
            ).fetchone()
            for table, key in KEYS.items()
        }


@pytest.mark.parametrize("response_format", ["xml", "csv"])
def test_meltano_run_lands_ground_truth(meltano, tmp_path, response_format):
    dataset = WebcastsDataset(
        seed=8, events=3, registrants_per_event=60, username=USERNAME, password=PASSWORD
    )
    server, _ = start_webcasts_sandbox(dataset)
    try:
        meltano.env.update(
            {
                "TAP_WEBCASTS_BASE_URL": server.url,
                "TAP_WEBCASTS_USERNAME": USERNAME,
                "TAP_WEBCASTS_PASSWORD": PASSWORD,
                "TAP_WEBCASTS_RESPONSE_FORMAT": response_format,
            }
        )
        first = meltano.run("run", "tap-webcasts", "target-duckdb")
        assert PASSWORD not in first.stdout + first.stderr
        truth = dataset.ground_truth()
        audience = truth["audience"]
        expected = {
            "events": len(truth["events"]),
            "audience": len(audience),
            "audience_sessions": sum(len(p["sessions"]) for p in audience),
            # The CSV report carries no Q&A and no survey answers.
            "audience_questions": sum(len(p["questions"]) for p in audience)
            if response_format == "xml"
            else 0,
            "audience_survey_answers": sum(len(p["surveys"]) for p in audience)
            if response_format == "xml"
            else 0,
        }
        warehouse = tmp_path / "warehouse.duckdb"
        facts = table_facts(warehouse)
        for table, rows in expected.items():
            if rows:
                assert facts[table] == (rows, rows), table

        # A second run re-reads each event's last active day; the keys absorb the repeats.
        meltano.run("run", "tap-webcasts", "target-duckdb")
        assert table_facts(warehouse) == facts
    finally:
        server.stop()
