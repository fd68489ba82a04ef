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
MAX_PRIVATE_NAMES = 6


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
    """VendorTap wraps sync_all to close its run object however the run ends, and each
    stream's sync so that a failed stream is recorded and the run goes on."""
    source = inspect.getsource(Tap.sync_all)
    assert "stream.sync()" in source
    assert source.index("stream.sync()") < source.index("stream.finalize_state_progress_markers()")
    assert list(inspect.signature(Stream.sync).parameters) == ["self", "context"]
    assert "child_stream.sync(context=child_context)" in inspect.getsource(Stream._sync_children)


def test_the_sdk_still_installs_its_signal_handlers_in_one_overridable_step():
    """WrappedRun replaces the handlers: the SDK's exit 0 on SIGTERM hides an unfinished run."""
    assert "self._setup_signal_handlers()" in inspect.getsource(PluginBase.__init__)
    assert list(inspect.signature(PluginBase._setup_signal_handlers).parameters) == ["self"]


def test_the_starting_bookmark_is_still_written_by_one_step_before_each_partition():
    source = inspect.getsource(Stream._sync_records)
    step = "self._write_starting_replication_value(current_context)"
    assert step in source
    assert source.index(step) < source.index("self.get_records(current_context)")
    assert list(inspect.signature(Stream._write_starting_replication_value).parameters) == [
        "self",
        "context",
    ]


@pytest.mark.parametrize(
    "text",
    [
        sdk_internals.SDK_SYNC_ERROR,
        sdk_internals.SDK_UNSORTED,
        sdk_internals.SDK_STREAM_START,
        sdk_internals.SDK_INCREMENTAL_START,
    ],
)
def test_the_sdk_log_lines_we_replace_are_still_logged(text):
    package = Path(inspect.getfile(Stream)).parents[1]
    assert any(text in path.read_text() for path in package.rglob("*.py")), text


@pytest.mark.parametrize(
    ("mixin", "base"),
    [
        (sdk_internals.RecordMessagesWithoutMaskWalk, RESTStream),
        (sdk_internals.BookmarkOncePerPartition, RESTStream),
        (sdk_internals.WrappedSync, RESTStream),
        (sdk_internals.WrappedRun, Tap),
    ],
)
def test_our_overrides_still_override_something(mixin, base):
    for name, member in vars(mixin).items():
        if callable(member) and name.startswith("_") and not name.startswith("__"):
            assert hasattr(base, name), f"{name} no longer exists in the SDK"
