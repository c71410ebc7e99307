"""The blocked-terms check sees through spelling tricks, and still matches whole words only."""

import pytest

from functions.core.content_policy import blocked
from functions.core.errors import InputRejected
from functions.core.guards import clean_prompt

TERMS = ("nude", "another banned phrase")


@pytest.mark.parametrize("text", [
    "a NUDE scene",
    "ｎｕｄｅ on the beach",  # full-width compatibility forms
    "ⓝⓤⓓⓔ", "𝐧𝐮𝐝𝐞", "ｎude",  # circled, mathematical bold, mixed
    "nüde", "nu\u0308de",  # accents, precomposed or combining
    "nu\u200bde", "nu\u2060de", "nu\u00adde",  # zero-width space, word joiner, soft hyphen
    "n0de".replace("0", "u") + " 4nd nud3", "NUD3", "n|_|de".replace("|_|", "u"),
    "nudе", "nυde",  # Cyrillic е, Greek υ
    "nuuuude", "Nude!", "(nude)",
    "n u d e", "n.u.d.e", "n-u-d-e", "n_u_d_e", "a n u d e shot",
    "another  banned\nphrase", "another-banned-phrase", "AN0THER BANNED PHRA5E", "a n o t h e r banned phrase",
])
def test_spelling_tricks_do_not_hide_a_blocked_term(text):
    assert blocked(text, TERMS)


@pytest.mark.parametrize("text", [
    "a nudibranch in a reef", "denuded hills", "class photo", "4k sunset at 1080p, 35mm",
    "another phrase, banned", "a b c d", "hello @nude_fan".replace("nude", "noodle"), "",
])
def test_innocent_text_passes(text):
    assert not blocked(text, TERMS)


@pytest.mark.parametrize(("term", "text"), [("l33t", "leet speak"), ("Nüde", "NUDE"), ("ＦＵＬＬ", "full width"),
                                            ("1ewd", "lewd"), ("1ewd", "iewd")])
def test_terms_are_read_the_same_way_as_the_text(term, text):
    assert blocked(text, (term,))


@pytest.mark.parametrize("field", ["prompt", "negativePrompt"])
def test_every_prompt_field_is_refused_through_the_same_check(field):
    with pytest.raises(InputRejected) as refused:
        clean_prompt("a n-u-d-e figure", TERMS, field)
    assert (refused.value.code, refused.value.field) == ("prompt_rejected", field)
    assert clean_prompt("  a lighthouse  ", TERMS, field) == "a lighthouse"  # the prompt itself is kept as written
