"""The limits the web app shows are the server's: a change on one side fails here."""

import json
import typing

from functions.settings import Settings
from schemas.api import PROMPT_MAX_CHARS
from schemas.generation import MAX_SEED
from schemas.jobs import SECONDS_PER_CREDIT, DurationSec
from schemas.payments import MAX_TOPUP_CREDITS, MIN_TOPUP_CREDITS
from tests.web.browser import WEB

LIMITS = json.loads((WEB / "src" / "limits.json").read_text())


def test_the_web_apps_limits_match_the_schemas_and_the_default_settings():
    settings = Settings()
    assert LIMITS["promptMaxChars"] == PROMPT_MAX_CHARS
    assert LIMITS["durations"] == list(typing.get_args(DurationSec))
    assert LIMITS["secondsPerCredit"] == SECONDS_PER_CREDIT
    assert LIMITS["seedMax"] == MAX_SEED
    assert (LIMITS["imageMaxBytes"], LIMITS["imageMaxSidePx"]) == (settings.image_max_bytes, settings.image_max_side_px)
    assert (LIMITS["topupMinCredits"], LIMITS["topupMaxCredits"]) == (MIN_TOPUP_CREDITS, MAX_TOPUP_CREDITS)
