"""The HTML pages: one Jinja2 environment over ``endpoint/templates``, every page extending ``base.html``."""

from __future__ import annotations

from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from thbkg.namespaces import BASE

__all__ = ["local_href", "page", "render"]


def local_href(iri: object) -> str:
    """Where this server answers for ``iri``: our IRIs open here (``/id/...``), others as they are."""
    text = str(iri)
    return "/" + text.removeprefix(BASE) if text.startswith(BASE) else text


_ENV = Environment(
    loader=PackageLoader("thbkg.endpoint", "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True),
    undefined=StrictUndefined,  # a name a template uses and a route forgot fails loudly in the tests
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["local"] = local_href
_ENV.filters["urlquote"] = lambda value: quote(str(value), safe="")


def render(template: str, **context: object) -> str:
    """The page ``template`` filled with ``context``; values are escaped unless marked safe."""
    return _ENV.get_template(template).render(**context)


def page(template: str, status_code: int = 200, headers: dict[str, str] | None = None,
         **context: object) -> HTMLResponse:
    """An HTML response of the page ``template``."""
    return HTMLResponse(render(template, **context), status_code=status_code, headers=headers)
