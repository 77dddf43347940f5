"""Search text folded one way, for what is indexed and for what is typed: every backend calls ``fold``.

A fragment search matches any run of characters inside a ticket's text, in any script, so the text
and the query must be folded by the same function: letter case (``casefold``, which also turns ``ß``
into ``ss``), compatibility forms (full-width ``１２``, ligatures), and the accents of Latin letters
(``Jürgen`` = ``Jurgen``, ``Größe`` = ``Grosse``). Marks on other scripts are kept: Japanese
dakuten (``ガ`` is not ``カ``) and Cyrillic ``й`` are letters of their own.
"""

from __future__ import annotations

import re
import unicodedata

# Fragments from this many characters are looked up in the trigram index; shorter ones in words.
MIN_FRAGMENT = 3

_LATIN_MARKS = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")
# Latin letters that no decomposition takes apart.
_LATIN_LETTERS = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "ŧ": "t", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"}
)
# Scripts written without spaces between words: a short fragment there is a word's inside, not its start.
_UNSPACED = re.compile(
    "[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uac00-\ud7af\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\U00020000-\U0003134f]"
)


def fold(text: str) -> str:
    """``text`` as the fragment index holds it (and as a query is looked up): see the module doc."""
    if text.isascii():  # most text: no compatibility forms, no accents; casefold is lower (an import's docs)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", _LATIN_MARKS.sub("", decomposed).translate(_LATIN_LETTERS))


def unspaced(text: str) -> bool:
    """True when ``text`` holds a character of a script written without spaces (CJK, kana, Thai, …)."""
    return _UNSPACED.search(text) is not None


_TOKEN = re.compile(r"[^\W_]+")  # letters and digits: what both backends' word indexes keep as a word


def query_parts(query: str) -> tuple[list[list[str]], list[str]]:
    """What a person typed, read by the one search rule: the short words, as their tokens (a 1-2 character
    word of a script written with spaces: a word's start, looked up in the word index), and the fragments,
    folded (3+ characters, or any run of a script written without spaces: anywhere in the text). Each
    backend writes them in its own query syntax; every one must hold."""
    words, fragments = [], []
    for word in query.split():
        tokens = _TOKEN.findall(word)
        if not tokens:
            continue
        folded = fold(word)
        if len(folded) >= MIN_FRAGMENT or unspaced(folded):
            fragments.append(folded)
        else:
            words.append(tokens)
    return words, fragments
