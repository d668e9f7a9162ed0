"""Tokenizers that turn a string into a list of token strings: whitespace, a small English
regex tokenizer (for raw text such as IMDB reviews), and Chinese characters.

Every tokenizer is a plain function `str -> list[str]`; `get_tokenizer(name)` picks one.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable

Tokenizer = Callable[[str], list[str]]

# An HTML tag: `<`, a letter or `/`, then anything but angle brackets, then `>`. Requiring a
# letter keeps emoticons and comparisons ("<3", "<=8") that IMDB reviews contain.
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")

_ENGLISH_TOKEN = re.compile(
    r"""
      \d+(?:[.,]\d+)+            # a number with a decimal point or separators: 3.5, 1,000
    | [^\W_]+(?:'[^\W_]+)*       # a word; inner apostrophes stay: don't, o'clock, rock'n'roll
    | ([^\w\s]|_)\1*             # a punctuation mark; a run of the same mark is one: "...", "!!"
    """,
    re.VERBOSE,
)

_CHINESE_TOKEN = re.compile(r"[A-Za-z0-9]+|\S")


def whitespace_tokenize(text: str) -> list[str]:
    """Split on runs of whitespace (Python's `str.split()`: Unicode spaces, tabs, newlines).

    Example:
        >>> whitespace_tokenize("  the cat\\tsat ")
        ['the', 'cat', 'sat']
    """
    return text.split()


def english_tokenize(text: str, lower: bool = False) -> list[str]:
    """Tokenize raw English text with one regular expression.

    The rules, in order:

    1. HTML tags (`<br />`, `<i>`, `</i>`) become spaces; then entities are unescaped
       (`&amp;` -> `&`). A `<` not followed by a letter or `/` is not a tag (`<3` stays).
    2. The right single quote `’` becomes the ASCII apostrophe, so `don’t` == `don't`.
    3. If `lower`, the text is lower-cased.
    4. Tokens are, trying each in turn at every position:
       - a number with inner `.` or `,` groups: `3.5`, `1,000,000`;
       - a word (Unicode letters and digits), keeping *inner* apostrophes: `don't`,
         `o'clock` and `rock'n'roll` are one token each. Contractions are not split
         (unlike the Penn Treebank's `do n't`): a classifier sees `don't` as one word.
         Leading and trailing apostrophes are quotes or possessives and become their own
         token: `'hello'` -> `'`, `hello`, `'`; `students'` -> `students`, `'`;
       - any other non-space character, on its own; a run of one repeated mark is one
         token (`...`, `!!!`, `--`). Hyphens split words: `well-known` -> `well - known`.

    Example:
        >>> english_tokenize("I don't like it...<br /><br />Really!", lower=True)
        ['i', "don't", 'like', 'it', '...', 'really', '!']
    """
    text = html.unescape(_HTML_TAG.sub(" ", text)).replace("\u2019", "'")
    if lower:
        text = text.lower()
    return [match.group(0) for match in _ENGLISH_TOKEN.finditer(text)]


def chinese_chars(text: str) -> list[str]:
    """Split Chinese text into characters, one token per character.

    A run of ASCII letters and digits stays one token (`iPhone`, `2005`), since it is a
    word or number written in Latin script. Whitespace is dropped; every other character
    (CJK, punctuation, full-width forms such as `１９９８`) is a token of its own. Normalise
    full-width forms first (`seqnlp.text.chinese.normalize_width`) to keep their runs together.

    Example:
        >>> chinese_chars("我在 2005 年买了iPhone。")
        ['我', '在', '2005', '年', '买', '了', 'iPhone', '。']
    """
    return _CHINESE_TOKEN.findall(text)


_TOKENIZERS: dict[str, Tokenizer] = {
    "whitespace": whitespace_tokenize,
    "english": english_tokenize,
    "chinese_chars": chinese_chars,
}


def _lowered(tokenizer: Tokenizer, text: str) -> list[str]:
    return tokenizer(text.lower())


def get_tokenizer(name: str, *, lower: bool = False) -> Tokenizer:
    """The tokenizer called `name`: "whitespace", "english" or "chinese_chars".

    Args:
        name: which tokenizer.
        lower: lower-case the text before tokenizing.

    Returns:
        A picklable function `str -> list[str]`.

    Raises:
        ValueError: `name` is unknown; the message lists the choices.
    """
    try:
        tokenizer = _TOKENIZERS[name]
    except KeyError:
        choices = ", ".join(sorted(_TOKENIZERS))
        raise ValueError(f"unknown tokenizer {name!r}; choose one of: {choices}") from None
    return functools.partial(_lowered, tokenizer) if lower else tokenizer
