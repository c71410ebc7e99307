"""The curated prompt templates: data in ``functions/data/prompt_templates.json``, checked once per instance."""

import json
from functools import cache
from pathlib import Path

from schemas.api import TemplateList

TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "data" / "prompt_templates.json"


@cache
def catalogue(path: Path = TEMPLATES_FILE) -> TemplateList:
    """Every template, in file order; a malformed file fails here (and in tests), never per request."""
    data = json.loads(path.read_text(encoding="utf-8"))
    templates = TemplateList.model_validate({"templates": data["templates"]})
    ids = [t.template_id for t in templates.templates]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path.name}: template ids must be unique")
    return templates
