"""dlt's generic ``rest_api`` source over the Cast.app sandbox (run by bench/compare_generic.py).

Runs inside bench/.venvs/dlt (dlt is no project dependency), never inside the project venv:

    bench/.venvs/dlt/bin/python bench/generic/dlt_runner.py CONFIG.json

CONFIG keys: base_url, org_slug, api_key, cast_ids, page_size, workdir, mode. ``mode`` is
"run" (extract + normalize + load into a filesystem destination, local ``file://`` bucket,
jsonl files) or "extract" (``pipeline.extract()`` only). Everything dlt writes (pipelines dir,
bucket) stays under ``workdir``. Prints one JSON line, ``{"extracted_rows": N}``: the rows of
the analytics_events table according to dlt's own extract metrics. The caller also counts the
rows in the loaded files.

The source is configured the way dlt's rest_api documentation describes it: one client with
api_key auth in the Authorization header, one resource for the campaign list of each cast, and
one child resource per event type whose ``generation_id`` path parameter is resolved from the
campaign list's ``generate_group`` field. All event resources load into one table.
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import dlt
from dlt.sources.rest_api import rest_api_source

EVENT_TYPES = ("delivered", "view", "play", "action", "feedback")
TABLE = "analytics_events"


def source_config(cfg: dict[str, t.Any]) -> dict[str, t.Any]:
    """The rest_api source configuration (a plain dict, as in dlt's docs)."""
    # dlt's page_number paginator reads total_path as a number of *pages*; the Cast envelope
    # only has an item count, so paging stops at the first empty page instead.
    paginator = {
        "type": "page_number",
        "base_page": 1,
        "page_param": "page",
        "total_path": None,
        "stop_after_empty_page": True,
    }
    resources: list[dict[str, t.Any]] = []
    for cast_id in cfg["cast_ids"]:
        campaigns = f"campaigns_{cast_id}"
        resources.append(
            {
                "name": campaigns,
                "endpoint": {"path": f"cast/{cast_id}/generation", "paginator": "single_page"},
                "selected": False,
            }
        )
        for kind in EVENT_TYPES:
            resources.append(
                {
                    "name": f"{TABLE}_{cast_id}_{kind}",
                    "table_name": TABLE,
                    "endpoint": {
                        "path": f"cast/{cast_id}/generation/{{generation_id}}/analytics_events",
                        "params": {
                            "generation_id": {
                                "type": "resolve",
                                "resource": campaigns,
                                "field": "generate_group",
                            },
                            "event_type": kind,
                            "page_size": cfg["page_size"],
                        },
                        "data_selector": "results",
                        "paginator": paginator,
                    },
                    "include_from_parent": ["cast_id", "generate_group"],
                }
            )
    return {
        "client": {
            "base_url": f"{cfg['base_url']}/designer/{cfg['org_slug']}/api/",
            "auth": {
                "type": "api_key",
                "name": "Authorization",
                "api_key": cfg["api_key"],
                "location": "header",
            },
        },
        "resources": resources,
    }


def extracted_rows(info: t.Any) -> int:
    """Rows of TABLE in an ExtractInfo, from dlt's job metrics."""
    rows = 0
    for load_metrics in info.metrics.values():
        for step in load_metrics:
            for job_id, job in step["job_metrics"].items():
                if job_id.split(".")[0] == TABLE:
                    rows += job.items_count
    return rows


def main() -> None:
    cfg = json.loads(Path(sys.argv[1]).read_text())
    work = Path(cfg["workdir"])
    pipeline = dlt.pipeline(
        pipeline_name=f"cast_{cfg['mode']}",
        pipelines_dir=str(work / "pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=(work / "bucket").as_uri()),
        dataset_name="cast",
    )
    source = rest_api_source(source_config(cfg))  # type: ignore[arg-type]
    if cfg["mode"] == "extract":
        info = pipeline.extract(source)
    else:
        pipeline.run(source, loader_file_format="jsonl")
        assert pipeline.last_trace is not None
        info = pipeline.last_trace.last_extract_info
    print(json.dumps({"extracted_rows": extracted_rows(info)}), flush=True)


if __name__ == "__main__":
    main()
