"""The SDK's private names we rely on: few, in one module, and still shaped as we use them.

If singer-sdk renames or reshapes any of them, these tests fail before a run silently
skips our code (tap_common/sdk_internals.py says why each one is used).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from singer_sdk import RESTStream, Stream, Tap
from singer_sdk.helpers import _typing as sdk_typing
from singer_sdk.plugin_base import PluginBase

from tap_common import sdk_internals

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("tap_cast", "tap_common", "tap_rev_webcast", "tap_webcasts")
ALLOWED_MODULE = ROOT / "tap_common" / "sdk_internals.py"
MAX_PRIVATE_NAMES = 5


def sdk_private_names() -> set[str]:
    """Single-underscore names the SDK's base classes define, methods and attributes."""
    bases = (Stream, RESTStream, Tap, PluginBase)
    names = {name for cls in bases for name in dir(cls)}
    for cls in bases:  # instance attributes, such as Stream._tap
        names.update(re.findall(r"self\.(_\w+)\s*[:=]", inspect.getsource(cls.__init__)))
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def private_sdk_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "singer_sdk" and any(part.startswith("_") for part in parts)


def private_uses(path: Path, private: set[str]) -> list[str]:
    """SDK private names used in ``path``: attributes, overrides and private-module imports."""
    uses = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in private:
            uses.append(node.attr)
        elif isinstance(node, ast.FunctionDef) and node.name in private:
            uses.append(node.name)
        elif isinstance(node, ast.ImportFrom) and private_sdk_module(node.module or ""):
            uses += [f"{node.module}.{alias.name}" for alias in node.names]
    return uses


def test_the_scan_sees_instance_attributes_and_private_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from singer_sdk.helpers._util import utc_now\n"
        "class S:\n    def run(self):\n        return self._tap.streams\n"
    )
    uses = private_uses(sample, sdk_private_names())
    assert uses == ["singer_sdk.helpers._util.utc_now", "_tap"]


def test_sdk_private_names_live_in_one_module_only():
    private = sdk_private_names()
    elsewhere = {
        str(path.relative_to(ROOT)): uses
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ALLOWED_MODULE and (uses := private_uses(path, private))
    }
    assert elsewhere == {}, "SDK private names outside tap_common/sdk_internals.py"
    names = set(private_uses(ALLOWED_MODULE, private))
    assert 0 < len(names) <= MAX_PRIVATE_NAMES, sorted(names)


def test_record_message_hook_is_still_the_sdks_per_record_step():
    hook = Stream._generate_record_messages
    assert list(inspect.signature(hook).parameters) == ["self", "record"]
    assert "self._generate_record_messages(record)" in inspect.getsource(
        Stream._write_record_message
    )
    # Our fast path does what the SDK's does when nothing is deselected.
    source = inspect.getsource(hook)
    for step in ("pop_deselected_record_properties", "conform_record_data_types", "version="):
        assert step in source


def test_conformance_helper_keeps_its_signature():
    parameters = inspect.signature(sdk_typing.conform_record_data_types).parameters
    assert list(parameters) == ["stream_name", "record", "schema", "level", "logger"]


def test_stream_version_is_set_where_the_sdk_announces_a_version():
    assert "self._stream_version =" in inspect.getsource(Stream.sync)
    assert "_stream_version" in inspect.getsource(Stream.__init__)


def test_bookmark_hook_is_still_called_once_per_written_record():
    hook = Stream._increment_stream_state
    parameters = inspect.signature(hook).parameters
    assert list(parameters) == ["self", "latest_record", "context"]
    assert parameters["context"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "self._increment_stream_state(record, context=current_context)" in (
        inspect.getsource(Stream._sync_records)
    )


def test_children_sync_before_their_parent_record_is_written():
    """poll_results hands each poll's answers to poll_answers through the child context,
    taking them out of the record in get_child_context: that needs this order."""
    source = inspect.getsource(Stream._sync_records)
    assert source.index("self._process_record(") < source.index("self._write_record_message(")


def test_sync_all_is_still_the_whole_run():
    """VendorTap wraps sync_all to close its run object however the run ends."""
    assert "stream.sync()" in inspect.getsource(Tap.sync_all)


@pytest.mark.parametrize(
    "mixin", [sdk_internals.RecordMessagesWithoutMaskWalk, sdk_internals.BookmarkOncePerPartition]
)
def test_our_overrides_still_override_something(mixin):
    for name, member in vars(mixin).items():
        if callable(member) and name.startswith("_") and not name.startswith("__"):
            assert hasattr(RESTStream, name), f"{name} no longer exists in the SDK"
