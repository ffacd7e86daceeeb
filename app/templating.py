"""The Jinja2 environment for the HTML the app and the evaluation reports build: autoescape on, so
every value put into a template is HTML-escaped unless it is already `Markup` (a fragment rendered
by another template, or text escaped by a dedicated function such as the chat escaper); `None`
renders as nothing. Templates are string constants in the modules that use them."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import jinja2
from markupsafe import Markup

__all__ = ["Markup", "environment"]


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


def environment(filters: Mapping[str, Callable[..., Any]] | None = None) -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_none_as_empty)
    env.filters.update(filters or {})
    return env
