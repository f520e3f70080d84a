"""What a process keeps of a subject's tables is used only at the revision it was built at."""

from __future__ import annotations

import pytest

from app.lib.revisions import Kept, kept, trigger_ddl


def test_a_kept_value_is_given_only_at_its_revision() -> None:
    pad: Kept[str] = Kept()
    assert pad.at(1) is None, "nothing kept yet"
    assert pad.keep(3, "drawn at 3") == "drawn at 3"
    assert pad.at(3) == "drawn at 3"
    assert pad.at(4) is None, "the tables changed since"
    assert pad.at(None) is None, "a subject never counted is never trusted"


def test_a_value_built_before_the_tables_were_ever_counted_is_not_kept() -> None:
    pad: Kept[str] = Kept()
    assert pad.keep(None, "drawn") == "drawn"
    assert pad.at(None) is None
    assert pad.revision is None


def test_each_store_keeps_its_own_values() -> None:
    first: dict[str, object] = {}
    second: dict[str, object] = {}
    kept(first, "order pad").keep(1, "first database's pad")
    assert kept(first, "order pad").at(1) == "first database's pad"
    assert kept(second, "order pad").at(1) is None


def test_a_subject_is_a_plain_name() -> None:
    with pytest.raises(ValueError, match="plain name"):
        trigger_ddl("sqlite", "menu'; DROP TABLE menu_item; --", "menu_item")
    assert all("'floor'" in statement for statement in trigger_ddl("sqlite", "floor", "dining_table"))
