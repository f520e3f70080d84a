"""What a template prints for a test that failed without an else: nothing, in one step, and a typo still fails."""

from __future__ import annotations

import pytest
from jinja2 import Environment, UndefinedError
from markupsafe import Markup, escape

from app.lib.settings import Settings
from app.lib.web import Blank
from app.main import _template_engine
from kds.live import CardRenderer

SETTINGS = Settings(secret_key="template-blanks-0123456789abcdef")


def test_the_app_and_the_kitchen_screens_print_a_failed_inline_test_as_nothing() -> None:
    environments: list[Environment] = [_template_engine(SETTINGS).engine, CardRenderer(SETTINGS).env]
    for env in environments:
        assert env.undefined is Blank
        page = env.from_string("<b class=\"item{{ ' is-86' if sold_out }}\">{{ name }}{{ note }}</b>")
        assert page.render(sold_out=False, name="Soup & bread") == '<b class="item">Soup &amp; bread</b>'
        assert page.render(sold_out=True, name="Soup") == '<b class="item is-86">Soup</b>'
        with pytest.raises(UndefinedError):
            env.from_string("{{ ticket.lines }}").render()


def test_a_blank_is_escaped_without_asking_for_attributes_it_lacks() -> None:
    class Counting(Blank):
        __slots__ = ()
        asked: list[str] = []

        def __getattr__(self, name: str) -> object:
            Counting.asked.append(name)
            return super().__getattr__(name)

    assert escape(Counting()) == Markup("")
    assert Counting.asked == []
