"""GET /templates: the prompt template library (public; the route sets how long clients may cache it)."""

from functions.bootstrap import Deps
from functions.core.templates import catalogue
from functions.http.endpoint import Call, Reply


def list_templates(call: Call, deps: Deps) -> Reply:
    return 200, catalogue()
