"""The blocked-terms check, on text as a reader sees it rather than as it is spelled. Pure.

The text and every term are reduced to the same *skeleton* before they are compared:

1. Unicode NFKC and casefold: full-width ``ｎｕｄｅ``, ligatures, circled and styled letters
   (``ⓝ``, ``𝐧``) become plain lower-case letters;
2. invisible characters dropped (zero-width space and joiners, word joiner, BOM, soft hyphen,
   variation selectors) and accents stripped (``nüde`` is ``nude``);
3. common look-alike swaps: leetspeak (0→o, 1→i or l, 3→e, 4→a, 5→s, 7→t, 8→b; and @→a, $→s,
   !→i, |→l before a letter, so a closing "!" stays punctuation) and Cyrillic or Greek letters
   drawn like Latin ones (``nudе`` with a Cyrillic е);
4. a letter repeated three times or more counts once (``nuuude``);
5. words are what lies between anything that is not a letter or digit, so spacing and
   punctuation do not matter (``nude``, ``NUDE!``, ``nude\\n``); a run of three or more single
   letters is read as one spelled-out word (``n u d e``, ``n.u.d.e``, ``n-u-d-e``).

A term matches when its words appear one after another among the text's words, or, for a
one-word term, inside a spelled-out word. Whole words only, so "class" never trips on "ass".
"""

import re
import unicodedata
from functools import lru_cache

_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0,
     *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), *range(0xFE00, 0xFE10)],
    None,
)
_LOOKALIKES = {
    "0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x",
}
# "1" reads as either i or l: both readings are checked.
_READINGS = tuple(str.maketrans({**_LOOKALIKES, "1": letter}) for letter in ("i", "l"))
# A symbol stands for a letter only before one ("n@ked", "$ex"); at a word's end it is punctuation ("nude!").
_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "l"}
_SYMBOL_AS_LETTER = re.compile(r"[@$!|](?=[^\W_])")
_REPEATS = re.compile(r"(.)\1{2,}")
_WORD = re.compile(r"[^\W_]+")


def blocked(text: str, terms: tuple[str, ...]) -> bool:
    """Whether ``text`` contains any of ``terms`` under the skeleton rules above."""
    if not terms:
        return False
    readings = [_words(text, reading) for reading in _READINGS]
    return any(_contains(words, spelled, term_words) for term in terms for term_words in _term_words(term)
               for words, spelled in readings)


@lru_cache(maxsize=1024)
def _term_words(term: str) -> tuple[tuple[str, ...], ...]:
    return tuple({_words(term, reading)[0] for reading in _READINGS} - {()})


def _contains(words: tuple[str, ...], spelled: tuple[str, ...], term: tuple[str, ...]) -> bool:
    n = len(term)
    if any(words[i:i + n] == term for i in range(len(words) - n + 1)):
        return True
    return n == 1 and any(term[0] in run for run in spelled)


def _words(text: str, reading: dict[int, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(words, spelled-out words)`` of the text's skeleton under one reading of 1 and |."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_INVISIBLE)
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))
    lettered = _SYMBOL_AS_LETTER.sub(lambda m: _SYMBOLS[m.group()], bare)
    skeleton = _REPEATS.sub(r"\1", lettered.translate(reading))
    words, spelled, run = [], [], []
    for word in _WORD.findall(skeleton):
        if len(word) == 1:
            run.append(word)
            continue
        _flush(run, words, spelled)
        words.append(word)
    _flush(run, words, spelled)
    return tuple(words), tuple(spelled)


def _flush(run: list[str], words: list[str], spelled: list[str]) -> None:
    if len(run) >= 3:
        words.append("".join(run))
        spelled.append(words[-1])
    else:
        words.extend(run)
    run.clear()
