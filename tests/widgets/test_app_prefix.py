"""``workbench serve --prefix``: the URL path the pages live under behind a proxy."""
from __future__ import annotations

import pytest

from widgets.app import normalize_prefix, prefixed_favicon
from workbench.cli import build_parser


@pytest.mark.parametrize(("given", "expected"), [
    ("", ""), ("/", ""), ("panel", "/panel"), ("/panel/", "/panel"),
    ("/user/ab c/panel", "/user/ab c/panel"),
])
def test_prefix_is_one_leading_slash_and_no_trailing_one(given, expected):
    assert normalize_prefix(given) == expected


def test_favicon_is_redirected_under_the_prefix_only_when_there_is_one():
    assert prefixed_favicon("") == []
    [(pattern, _handler, kwargs)] = prefixed_favicon("/user/x/panel")
    # Bokeh prepends the prefix to the pattern itself
    assert pattern == r"/favicon\.ico"
    assert kwargs["url"] == "/user/x/panel/static/extensions/panel/images/favicon.ico"


def test_serve_takes_a_prefix_flag():
    args = build_parser().parse_args(["serve", "--prefix", "/user/x/panel"])
    assert args.prefix == "/user/x/panel"
    assert build_parser().parse_args(["serve"]).prefix == ""
