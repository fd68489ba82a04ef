"""Run target-snowflake's (and dbt-snowflake's) real console script against fakesnow, for
tests only.

Runs in the loader's own virtualenv (``.venv-snowflake``, see tests/snowflake/conftest.py),
never in the taps' one. Three commands:

    python fakesnow_target.py --db-path DIR --sql-log FILE -- --config target.json < singer
    python fakesnow_target.py --db-path DIR --dump SCHEMA      # its tables as JSON
    python fakesnow_target.py --db-path DIR --dbt -- build ...  # dbt-snowflake (see run_dbt)

The first runs ``bin/target-snowflake`` (the script pip installed) with fakesnow 0.12.1's
in-process patch of ``snowflake.connector.connect``: every statement the loader sends goes to
fakesnow (DuckDB files in DIR), which handles connecting, SHOW, schema and table DDL, ALTER,
CREATE FILE FORMAT and MERGE itself. fakesnow 0.12.1 cannot run the statements below, so this
adapter stands in for exactly those, with the meaning Snowflake documents, and nothing else:

- ``PUT file://<batch> '@~/target-snowflake/<id>'``: the user stage (quoted) is a folder the
  adapter owns; PUT copies the target's own gzip JSONL batch file into it.
- ``REMOVE '@~/target-snowflake/<id>/'``: deletes the files under that stage path.
- ``COPY INTO <table> (<cols>) FROM (SELECT $1:<col>::<TYPE> AS <col>, ... FROM '@~/...')
  FILE_FORMAT = (FORMAT_NAME = '<format>')`` and ``MERGE INTO ... USING (SELECT ... FROM
  '@~/...' (FILE_FORMAT => <format>) QUALIFY ROW_NUMBER() OVER (... ORDER BY SEQ8() DESC) = 1)``:
  the named file format must exist and be JSON; the staged files' lines become a temporary
  table of one VARIANT column (a JSON file format loads each line as one VARIANT, ``$1``)
  plus its line number in staging order, which stands in for ``SEQ8()`` (assumption: the
  last staged line of a key wins, which is what the loader's dedup intends). The statement
  then runs in fakesnow with that table as its source: COPY as an INSERT ... SELECT whose
  result is COPY's one row per file (``rows_loaded`` fourth); MERGE as sent, its QUALIFY
  moved out one level around the casts (DuckDB cannot bind a select-list alias there
  inside the FULL JOIN fakesnow runs MERGE as), which keeps the same rows.
- ``DROP FILE FORMAT IF EXISTS <format>``: removes it from fakesnow's file format catalog.

Outside SQL:

- The Singer SDK drains sinks in parallel threads; fakesnow keeps one DuckDB connection,
  which answers "connection is busy" to a second thread. Drains run one at a time here.
- fakesnow refuses a statement naming an unqualified table while the session has no current
  schema, and the staged table above (like fakesnow's own MERGE work table) is unqualified;
  a session only gets one from the loader's CREATE SCHEMA, which a second run skips. So
  every connection is given the target's ``default_target_schema`` as its session schema
  (the connector's ``schema`` parameter), once that schema exists.

What a test built on this does NOT prove: Snowflake's own staging (PUT's upload and
compression, stage listing), its parsing of the staged files (JSON file format options),
and its casts (``$1:col::TIMESTAMP_NTZ`` and friends run as DuckDB's casts under fakesnow's
translation). It does prove what the loader decides: which statements it sends, in which
order, the tables and column types it creates, and what its MERGE keeps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import gzip
import json
import re
import runpy
import shutil
import sys
import tempfile
import typing as t
import uuid
from pathlib import Path
from urllib.parse import urlparse

import fakesnow
import fakesnow.cursor
import pyarrow as pa
import singer_sdk.target_base
import snowflake.connector
from fakesnow.transforms.stage import parts_from_var

STAGE = "'@~/target-snowflake/"
PUT = re.compile(r"^put %\(file_uri\)s '@~/target-snowflake/(?P<path>[^']+)'$", re.I)
REMOVE = re.compile(r"^remove '@~/target-snowflake/(?P<path>[^']+)'$", re.I)
DROP_FORMAT = re.compile(r"^drop file format if exists (?P<name>.+)$", re.I)
COPY = re.compile(
    r"^copy into (?P<table>\S+) (?P<columns>\([^)]*\)) from "
    r"\(select (?P<casts>.*) from '@~/target-snowflake/(?P<path>[^']+)'\)"
    r"\s*file_format = \(format_name='(?P<format>.+)'\)$",
    re.I | re.S,
)
MERGE = re.compile(
    r"^(?P<head>merge into \S+ d using \()select (?P<casts>.*?) "
    r"from '@~/target-snowflake/(?P<path>[^']+)'\s*\(file_format => (?P<format>[^)]+)\) "
    r"(?P<dedup>QUALIFY ROW_NUMBER\(\) OVER \(PARTITION BY [^)]* ORDER BY SEQ8\(\) DESC\) = 1)"
    r"\)(?P<tail> s on .*)$",
    re.I | re.S,
)


class UserStage:
    """The user stage ``@~``: a folder of staged files, by stage path."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="fakesnow-user-stage-"))

    def folder(self, path: str) -> Path:
        folder = (self.root / path.strip("/")).resolve()
        if self.root.resolve() not in folder.parents:
            raise ValueError(f"stage path {path!r} leaves the user stage")
        return folder

    def put(self, path: str, file_uri: str) -> Path:
        source = Path(urlparse(file_uri).path)
        folder = self.folder(path)
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(source, folder / source.name))

    def files(self, path: str) -> list[Path]:
        folder = self.folder(path)
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def remove(self, path: str) -> list[Path]:
        files = self.files(path)
        shutil.rmtree(self.folder(path), ignore_errors=True)
        return files


class Adapter:
    """Stands in for the statements fakesnow 0.12.1 cannot run (see the module docstring)."""

    def __init__(self, execute: t.Callable[..., t.Any], sql_log: t.TextIO | None) -> None:
        self.original = execute
        self.stage = UserStage()
        self.sql_log = sql_log

    def execute(self, cursor: t.Any, command: str, params: t.Any = None, *a: t.Any, **k: t.Any):
        statement = command.strip().rstrip(";").strip()
        if self.sql_log:
            self.sql_log.write(statement + ";\n")
            self.sql_log.flush()
        if match := PUT.match(statement):
            staged = self.stage.put(match["path"], params["file_uri"])
            return self.result(cursor, [{"source": staged.name, "status": "UPLOADED"}])
        if match := REMOVE.match(statement):
            removed = self.stage.remove(match["path"])
            return self.result(cursor, [{"name": f.name, "result": "removed"} for f in removed])
        if match := DROP_FORMAT.match(statement):
            return self.drop_file_format(cursor, match["name"])
        if match := COPY.match(statement):
            return self.copy(cursor, match)
        if match := MERGE.match(statement):
            return self.merge(cursor, match)
        if STAGE in statement:
            raise NotImplementedError(f"the test adapter does not know this statement: {command}")
        return self.original(cursor, command, params, *a, **k)

    def result(self, cursor: t.Any, rows: list[dict]) -> t.Any:
        """Make ``rows`` the cursor's result set, as Snowflake returns one for every command."""
        if not rows:
            return self.original(cursor, "select 'no files' as \"status\" where false")
        selects = [
            "select " + ", ".join(f'{sql_literal(v)} as "{k}"' for k, v in row.items())
            for row in rows
        ]
        return self.original(cursor, " union all ".join(selects))

    def drop_file_format(self, cursor: t.Any, name: str) -> t.Any:
        cursor._duck_conn.execute(
            f"delete {FILE_FORMATS} {WHERE_FORMAT}", format_parts(cursor, name)
        )
        return self.result(cursor, [{"status": f"{name} successfully dropped."}])

    def file_format_type(self, cursor: t.Any, name: str) -> str | None:
        """The TYPE of the named file format, None when it does not exist."""
        rows = cursor._duck_conn.execute(
            f"select options {FILE_FORMATS} {WHERE_FORMAT}", format_parts(cursor, name)
        ).fetchall()
        return json.loads(rows[0][0]).get("TYPE") if rows else None

    def copy(self, cursor: t.Any, match: re.Match) -> t.Any:
        files = self.stage.files(match["path"])
        # COPY INTO returns one row per file: file, status, rows_parsed, rows_loaded, ...
        # The loader sums the fourth column. It stages one file per COPY.
        if len(files) != 1:
            raise NotImplementedError(f"COPY of {len(files)} staged files in one statement")
        staged = self.stage_table(cursor, match["path"], match["format"])
        casts = match["casts"].replace("$1:", "staged_record:")
        self.original(
            cursor, f"insert into {match['table']} {match['columns']} select {casts} from {staged}"
        )
        loaded = cursor.fetchone()[0]
        row = {"file": files[0].name, "status": "LOADED", "rows_parsed": loaded}
        return self.result(cursor, [{**row, "rows_loaded": loaded, "errors_seen": 0}])

    def merge(self, cursor: t.Any, match: re.Match) -> t.Any:
        """The MERGE as sent, its source the staged table. The dedup window moves one level
        out (DuckDB cannot bind a select-list alias in QUALIFY inside a FULL JOIN's source,
        which is how fakesnow runs MERGE); it keeps the same rows."""
        staged = self.stage_table(cursor, match["path"], match["format"])
        casts = match["casts"].replace("$1:", "staged_record:")
        dedup = match["dedup"].replace("SEQ8()", "staged_seq")
        source = (
            f"select * exclude (staged_seq) from (select {casts}, staged_seq from {staged}) "
            + dedup
        )
        return self.original(cursor, f"{match['head']}{source}){match['tail']}")

    def stage_table(self, cursor: t.Any, path: str, file_format: str) -> str:
        """A temporary table of the lines staged under ``path``, read with ``file_format``:
        ``staged_record`` (the line as one VARIANT, Snowflake's ``$1`` for JSON) and
        ``staged_seq`` (its position in staging order, standing in for ``SEQ8()``)."""
        if (file_type := self.file_format_type(cursor, file_format)) != "JSON":
            raise NotImplementedError(f"file format {file_format} is {file_type}, not JSON")
        lines = []
        for file in self.stage.files(path):
            with gzip.open(file, "rt", encoding="utf-8") as staged_file:
                lines += [line for line in staged_file.read().splitlines() if line.strip()]
        staged = pa.table({"record": lines, "seq": list(range(len(lines)))})
        table = f"staged_{uuid.uuid4().hex}"
        duck = cursor._duck_conn
        duck.register("staged_lines", staged)
        duck.execute(
            f"create temp table {table} as "
            "select record::json as staged_record, seq as staged_seq from staged_lines"
        )
        duck.unregister("staged_lines")
        return table


FILE_FORMATS = "from _fs_global._fs_information_schema._fs_file_formats"
WHERE_FORMAT = "where database_name = ? and schema_name = ? and name = ?"


def format_parts(cursor: t.Any, name: str) -> tuple[str, str, str]:
    """Database, schema and name of a file format, as fakesnow's catalog keeps them."""
    return parts_from_var(name.strip(), cursor._conn.database, cursor._conn.schema)


def sql_literal(value: t.Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def patched_connect(connect: t.Callable[..., t.Any], schema: str | None) -> t.Callable[..., t.Any]:
    """fakesnow's connect with the target's ``schema`` as the session schema (see above)."""

    def connect_with_schema(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if schema and not kwargs.get("schema"):
            kwargs["schema"] = schema
        return connect(*args, **kwargs)

    return connect_with_schema


def run_target(db_path: str, sql_log: str | None, target_args: list[str]) -> None:
    config = json.loads(Path(target_args[target_args.index("--config") + 1]).read_text())
    script = Path(sys.executable).parent / "target-snowflake"
    # One drain at a time: fakesnow's single DuckDB connection serves one statement at once.
    singer_sdk.target_base._MAX_PARALLELISM = 1
    log = Path(sql_log).open("a", encoding="utf-8") if sql_log else None  # noqa: SIM115
    adapter = Adapter(fakesnow.cursor.FakeSnowflakeCursor.execute, log)

    def execute(cursor: t.Any, command: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return adapter.execute(cursor, command, *args, **kwargs)

    fakesnow.cursor.FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]
    schema = config.get("default_target_schema")
    with fakesnow.patch(db_path=db_path, create_schema_on_connect=False):
        snowflake.connector.connect.side_effect = patched_connect(
            snowflake.connector.connect.side_effect, schema
        )
        sys.argv = [str(script), *target_args]
        try:
            runpy.run_path(str(script), run_name="__main__")
        finally:
            shutil.rmtree(adapter.stage.root, ignore_errors=True)


DESCRIBE_TABLE = re.compile(r"^\s*describe table (?P<name>\S+)", re.I)
#: dbt's unit tests create a qualified temporary table; DuckDB keeps temporary tables in a
#: catalog of their own and refuses the qualified name, so they become ordinary tables
#: (dbt drops them after the test).
TEMPORARY_TABLE = re.compile(
    r"^(?P<create>\s*create or replace) temporary table(?= \S+__dbt_tmp\b)", re.I
)


def run_dbt(db_path: str, dbt_args: list[str]) -> None:
    """dbt's console script (dbt-snowflake) under fakesnow, with two corrections. DESCRIBE
    TABLE of a missing table fails with Snowflake's documented message ("... does not exist
    or not authorized."), which dbt-snowflake reads as "no columns"; fakesnow passes on
    DuckDB's "Catalog Error: Table with name ... does not exist!" (dbt's unit tests describe
    the CTE standing in for a source, which is not a table). And see TEMPORARY_TABLE."""
    original = fakesnow.cursor.FakeSnowflakeCursor.execute

    def execute(cursor: t.Any, command: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        command = TEMPORARY_TABLE.sub(r"\g<create> table", command)
        try:
            return original(cursor, command, *args, **kwargs)
        except snowflake.connector.errors.ProgrammingError as exc:
            missing = DESCRIBE_TABLE.match(command)
            if not (missing and "does not exist" in str(exc)):
                raise
            name = missing["name"].upper()
            message = f"SQL compilation error:\nTable '{name}' does not exist or not authorized."
            raise snowflake.connector.errors.ProgrammingError(
                msg=message, errno=2003, sqlstate="42S02"
            ) from exc

    fakesnow.cursor.FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]
    script = Path(sys.executable).parent / "dbt"
    with fakesnow.patch(db_path=db_path):
        sys.argv = [str(script), *dbt_args]
        runpy.run_path(str(script), run_name="__main__")


def dump(db_path: str, database: str, schema: str) -> None:
    """Print every table of ``schema`` as JSON: its columns' types as information_schema
    reports them, and its rows as the connector returns them (times in ISO 8601)."""
    with fakesnow.patch(db_path=db_path):
        cursor = snowflake.connector.connect(database=database).cursor(
            snowflake.connector.DictCursor
        )
        columns = cursor.execute(
            "select table_name, column_name, data_type, numeric_precision, numeric_scale "
            "from information_schema.columns where table_schema = %s "
            "order by table_name, ordinal_position",
            (schema,),
        ).fetchall()
        tables: dict[str, dict] = {}
        for column in columns:
            data_type = column["DATA_TYPE"]
            if data_type == "NUMBER":
                data_type += f"({column['NUMERIC_PRECISION']},{column['NUMERIC_SCALE']})"
            table = tables.setdefault(column["TABLE_NAME"], {"columns": {}, "rows": []})
            table["columns"][column["COLUMN_NAME"]] = data_type
        for name, table in tables.items():
            table["rows"] = cursor.execute(f'select * from "{schema}"."{name}"').fetchall()
        print(json.dumps(tables, default=plain))


def plain(value: t.Any) -> t.Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    raise TypeError(f"cannot print {type(value).__name__}")


def main() -> None:
    argv = sys.argv[1:]
    target_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-path", required=True)
    parser.add_argument("--sql-log")
    parser.add_argument("--database", default="WEBINARS")
    parser.add_argument("--dump", metavar="SCHEMA", help="print the schema's tables as JSON")
    parser.add_argument("--dbt", action="store_true", help="run dbt with the arguments after --")
    args = parser.parse_args(own)
    if args.dump:
        dump(args.db_path, args.database, args.dump)
    elif args.dbt:
        run_dbt(args.db_path, target_args)
    else:
        run_target(args.db_path, args.sql_log, target_args)


if __name__ == "__main__":
    main()
