"""The prompt template library: the data file is valid and covers what creators need; GET /templates is public and cacheable."""

import json

import flask
import pytest

from functions.core.templates import TEMPLATES_FILE, catalogue
from functions.handlers.templates_api import list_templates
from functions.http.endpoint import serve
from tests.unit.fakes import make_deps


def test_the_library_offers_every_kind_and_subjects_for_each_audience():
    templates = catalogue().templates
    kinds = {t.kind for t in templates}
    assert kinds == {"subject", "camera", "lighting", "style"}
    subject_audiences = {t.audience for t in templates if t.kind == "subject"}
    assert subject_audiences == {"social", "education", "gamedev"}
    assert len({t.template_id for t in templates}) == len(templates)


def test_a_duplicate_template_id_is_refused_when_the_file_is_loaded(tmp_path):
    data = json.loads(TEMPLATES_FILE.read_text())
    data["templates"].append(dict(data["templates"][0]))
    broken = tmp_path / "templates.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="unique"):
        catalogue(broken)


def test_get_templates_needs_no_session_and_may_be_cached():
    request = flask.Request.from_values(path="/templates", method="GET")
    deps = make_deps()
    response = serve(request, "list_templates", lambda call: list_templates(call, deps),
                     authenticate=lambda token: pytest.fail("a public route must not authenticate"), allowed_origins=())
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    body = json.loads(response.get_data())
    assert body["templates"][0].keys() >= {"templateId", "kind", "audience", "title", "prompt"}
    assert len(body["templates"]) == len(catalogue().templates)
