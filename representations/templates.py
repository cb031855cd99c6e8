"""URI templates (RFC 6570) that a form can fill in.

A templated link such as ``/users/5/payment_options{?product_id}`` cannot be
followed by a client that does not expand templates (a Siren client, a
browser), but when every variable sits in a form-style query expression
(``{?a,b}``, ``{&c}``) the link is exactly a GET form: its target is the
template without the expressions and its fields are the variables. The
renderers that cannot template offer such links as GET actions.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from .model import Action, Field, Link, Resource

_QUERY_EXPRESSION = re.compile(r"\{([?&])([^{}]*)\}")


def _variable(spec: str) -> str:
    """A variable's name without its modifiers (``name*``, ``name:3``)."""
    return spec.strip().rstrip("*").partition(":")[0]


def form_of(href: str) -> tuple[str, tuple[Field, ...]] | None:
    """The target and fields of a GET form that expands ``href``, or ``None`` when
    some variable is not in a query expression (a path segment cannot be a field)."""
    names: list[str] = []
    for match in _QUERY_EXPRESSION.finditer(href):
        names.extend(name for name in map(_variable, match.group(2).split(",")) if name)
    target = _QUERY_EXPRESSION.sub("", href)
    if not names or "{" in target or "}" in target:
        return None
    # A GET form replaces the target's query with its fields: what the template
    # fixes in the query travels as hidden fields.
    parts = urlsplit(target)
    fixed = tuple(Field(name, "hidden", value=value) for name, value in parse_qsl(parts.query))
    target = urlunsplit(parts._replace(query=""))
    return target, fixed + tuple(Field(name, "text", title=_title(name))
                                 for name in names if name not in {field.name for field in fixed})


def _title(name: str) -> str:
    """``product_id`` → ``Product ID``."""
    words = [word.upper() if word == "id" else word for word in name.split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def link_actions(resource: Resource) -> list[Action]:
    """A GET action for each templated link of ``resource`` that a form can expand,
    named after its relation (``fg:payment_options`` → ``payment_options``) unless
    the resource already has an action of that name."""
    taken = {action.name for action in resource.actions}
    actions = []
    for rel, value in resource.links.items():
        for link in value if isinstance(value, list) else (value,):
            if not isinstance(link, Link) or not link.templated:
                continue
            form = form_of(link.href)
            name = rel.rpartition(":")[2]
            if form is None or name in taken:
                continue
            taken.add(name)
            actions.append(Action(name, form[0], "GET", link.title, fields=form[1]))
    return actions
