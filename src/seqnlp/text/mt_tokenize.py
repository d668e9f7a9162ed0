"""A word tokenizer and its detokenizer for translation (in the spirit of the Moses scripts,
Koehn et al., 2007): punctuation split from words, and glued back when writing.

    tokenize_mt("Ein Mann (rechts) fährt.")   -> ["Ein", "Mann", "(", "rechts", ")", "fährt", "."]
    detokenize_mt(["a", "man", "(", "left", ")", "."]) -> "a man (left)."

Words keep inner hyphens and apostrophes ("T-Shirt", "man's"). `detokenize_mt` inverts
`tokenize_mt` on ordinary text; the scorer (sacreBLEU) tokenizes again on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)
_NO_SPACE_BEFORE = set(".,!?;:%)]}»“”") | {"'s", "n't", "...", "…"}
_NO_SPACE_AFTER = set("([{«„")


def tokenize_mt(text: str, lowercase: bool = False) -> list[str]:
    """The words and punctuation marks of `text`, in order (optionally lowercased)."""
    tokens = _TOKEN.findall(text)
    return [t.lower() for t in tokens] if lowercase else tokens


def detokenize_mt(tokens: Sequence[str]) -> str:
    """Join tokens with spaces, except before closing and after opening punctuation; a
    straight double quote opens and closes in turn."""
    out: list[str] = []
    glue_next = False  # the previous token opens: no space after it
    quotes = 0
    for token in tokens:
        after_opener = glue_next
        glue = after_opener or token in _NO_SPACE_BEFORE
        glue_next = token in _NO_SPACE_AFTER
        if token == '"':
            quotes += 1
            opening = quotes % 2 == 1
            glue, glue_next = (after_opener if opening else True), opening
        out.append(token if glue or not out else " " + token)
    return "".join(out)
