"""A token vocabulary: the bijection between tokens and integer ids, with their counts.

The order is deterministic: the special tokens first, in the order given, then the other
tokens by count (descending), ties broken by the token string. Saved as JSON.
"""

from __future__ import annotations

import json
import os
import types
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from seqnlp.errors import DataFormatError, SeqnlpError
from seqnlp.fileio import (
    COMPRESSION_ERRORS,
    PathLike,
    access_error,
    atomic_write,
    open_binary,
)

PAD = "<pad>"
UNK = "<unk>"
BOS = "<bos>"
EOS = "<eos>"
DEFAULT_SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)

FORMAT_VERSION = 1
_KIND = "seqnlp.Vocab"


class UnknownTokenError(SeqnlpError, KeyError):
    """A token is not in a vocabulary that has no `<unk>` to fall back on."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Vocab:
    """Tokens and their ids, in a fixed order: specials first, then the counted tokens.

    Build one with `Vocab.build` (from token lists) or `Vocab.from_counts` (from a
    `Counter`); the constructor takes a ready-made order, as `from_dict` does.

    The special roles are recognised by their spelling: `pad_index`, `unk_index`,
    `bos_index` and `eos_index` are the ids of `"<pad>"`, `"<unk>"`, `"<bos>"` and
    `"<eos>"`, or None when the vocabulary lacks that token. A special token that also
    occurs in the data (PTB's `<unk>`, the `<eos>` appended by `read_lm_lines`) keeps its
    special place and its observed count; a special never seen has count 0.

    Args:
        itos: every token in id order; the first `len(specials)` must be `specials`.
        counts: the count of each token, aligned with `itos` (default: all zero).
        specials: the special tokens at the head of `itos`.

    Raises:
        ValueError: on a repeated token, a count list of another length, a negative
            count, or `specials` that are not the head of `itos`.
    """

    def __init__(
        self,
        itos: Iterable[str],
        counts: Iterable[int] | None = None,
        *,
        specials: Sequence[str] = (),
    ) -> None:
        self._itos: tuple[str, ...] = tuple(itos)
        self._specials: tuple[str, ...] = tuple(specials)
        self._stoi = {token: i for i, token in enumerate(self._itos)}
        if len(self._stoi) != len(self._itos):
            seen = Counter(self._itos)
            repeated = sorted(t for t, n in seen.items() if n > 1)[:5]
            raise ValueError(f"vocabulary tokens must be unique; repeated: {repeated}")
        if self._itos[: len(self._specials)] != self._specials:
            raise ValueError(
                f"specials {list(self._specials)} must be the first tokens of the vocabulary"
            )
        self._counts = self._check_counts(counts)
        self._unk = self._stoi.get(UNK)

    def _check_counts(self, counts: Iterable[int] | None) -> np.ndarray:
        if counts is None:
            array = np.zeros(len(self._itos), dtype=np.int64)
        else:
            array = np.array(list(counts), dtype=np.int64)
        if array.shape != (len(self._itos),):
            raise ValueError(
                f"counts must have one entry per token ({len(self._itos)}), got {array.shape}"
            )
        if array.size and array.min() < 0:
            raise ValueError(f"counts must be >= 0, got {int(array.min())}")
        array.flags.writeable = False
        return array

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[str, int],
        *,
        min_count: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
    ) -> Vocab:
        """Build a vocabulary from token counts.

        Args:
            counts: token -> count, e.g. a `collections.Counter`.
            min_count: drop tokens seen fewer times (specials are always kept).
            max_size: the most tokens in all, specials included (`len(vocab) <= max_size`);
                the least frequent are cut (after the tie-break by token string).
            specials: tokens placed first, in this order, whatever their counts.

        Returns:
            The vocabulary, ordered specials first, then count descending, then token.
        """
        if min_count < 0:
            raise ValueError(f"min_count must be >= 0, got {min_count}")
        if max_size is not None and max_size < len(specials):
            raise ValueError(
                f"max_size must be >= the {len(specials)} specials, got {max_size}"
            )
        special_set = set(specials)
        kept = [
            (token, int(n))
            for token, n in counts.items()
            if n >= min_count and token not in special_set
        ]
        kept.sort(key=lambda item: (-item[1], item[0]))
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        itos = list(specials) + [token for token, _ in kept]
        numbers = [int(counts.get(s, 0)) for s in specials] + [n for _, n in kept]
        return cls(itos, numbers, specials=specials)

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Sequence[str]],
        *,
        min_count: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = DEFAULT_SPECIALS,
    ) -> Vocab:
        """Count the tokens of a stream of token lists, then call `from_counts`.

        The stream is consumed once, one list at a time (a generator over a corpus file
        is never held in memory); only the counts are kept.

        Raises:
            TypeError: when an item is a string rather than a list of tokens (which would
                silently count characters).
        """
        counter: Counter[str] = Counter()
        for number, tokens in enumerate(token_lists):
            if isinstance(tokens, str):
                raise TypeError(
                    f"Vocab.build expects an iterable of token lists; item {number} is a "
                    f"str ({tokens[:30]!r}); tokenize it first"
                )
            counter.update(tokens)
        return cls.from_counts(counter, min_count=min_count, max_size=max_size, specials=specials)

    # ------------------------------------------------------------------- lookups

    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    def __iter__(self) -> Iterator[str]:
        return iter(self._itos)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return (
            self._itos == other._itos
            and self._specials == other._specials
            and np.array_equal(self._counts, other._counts)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, specials={self._specials})"

    @property
    def itos(self) -> tuple[str, ...]:
        """Every token in id order."""
        return self._itos

    @property
    def stoi(self) -> Mapping[str, int]:
        """A read-only token -> id mapping (no unk fallback; use `index` for that)."""
        return types.MappingProxyType(self._stoi)

    @property
    def counts(self) -> np.ndarray:
        """Read-only (V,) int64 array: the count of each token, aligned with `itos`."""
        return self._counts

    @property
    def specials(self) -> tuple[str, ...]:
        """The special tokens, which hold ids 0 .. len(specials) - 1."""
        return self._specials

    @property
    def pad_index(self) -> int | None:
        """Id of `<pad>`, or None when absent."""
        return self._stoi.get(PAD)

    @property
    def unk_index(self) -> int | None:
        """Id of `<unk>`, or None when absent (then unknown tokens raise)."""
        return self._unk

    @property
    def bos_index(self) -> int | None:
        """Id of `<bos>`, or None when absent."""
        return self._stoi.get(BOS)

    @property
    def eos_index(self) -> int | None:
        """Id of `<eos>`, or None when absent."""
        return self._stoi.get(EOS)

    def count(self, token: str) -> int:
        """The count of `token` (0 for a token outside the vocabulary)."""
        i = self._stoi.get(token)
        return 0 if i is None else int(self._counts[i])

    def index(self, token: str) -> int:
        """The id of `token`, or `unk_index` for a token outside the vocabulary.

        Raises:
            UnknownTokenError: the token is unknown and the vocabulary has no `<unk>`.
        """
        i = self._stoi.get(token, self._unk)
        if i is None:
            raise self._unknown(token)
        return i

    def _unknown(self, token: str) -> UnknownTokenError:
        return UnknownTokenError(
            f"token {token!r} is not in the vocabulary ({len(self)} tokens), which has no "
            f"{UNK!r} to fall back on; add {UNK!r} to specials"
        )

    def token(self, i: int) -> str:
        """The token with id `i`.

        Raises:
            IndexError: `i` is outside 0 .. len - 1.
        """
        if not 0 <= i < len(self._itos):
            raise IndexError(f"token id {i} is out of range for a vocabulary of {len(self)}")
        return self._itos[int(i)]

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Map tokens to ids, unknown ones to `unk_index`.

        Returns:
            (T,) int64 array.

        Raises:
            UnknownTokenError: a token is unknown and the vocabulary has no `<unk>`.
            TypeError: `tokens` is a single string (tokenize it first).
        """
        if isinstance(tokens, str):
            raise TypeError(f"encode expects a list of tokens, got a str ({tokens[:30]!r})")
        tokens = tokens if isinstance(tokens, Sequence) else list(tokens)
        if self._unk is None:
            missing = next((t for t in tokens if t not in self._stoi), None)
            if missing is not None:
                raise self._unknown(missing)
        get, unk = self._stoi.get, self._unk
        return np.fromiter((get(t, unk) for t in tokens), dtype=np.int64, count=len(tokens))

    def decode(self, ids: Iterable[int], *, skip_specials: bool = False) -> list[str]:
        """Map ids back to tokens, optionally leaving out the special tokens.

        Raises:
            IndexError: an id is outside 0 .. len - 1.
        """
        tokens = [self.token(int(i)) for i in np.asarray(ids, dtype=np.int64).ravel()]
        if skip_specials:
            specials = set(self._specials)
            tokens = [t for t in tokens if t not in specials]
        return tokens

    def most_common(self, n: int | None = None) -> list[tuple[str, int]]:
        """The `n` most frequent tokens with their counts (all when `n` is None).

        Specials are included when they occurred in the data; ties follow id order.
        """
        order = np.argsort(-self._counts, kind="stable")
        pairs = [(self._itos[i], int(self._counts[i])) for i in order if self._counts[i] > 0]
        return pairs if n is None else pairs[:n]

    # ------------------------------------------------------------- serialisation

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: `{format_version, kind, specials, itos, counts}`."""
        return {
            "format_version": FORMAT_VERSION,
            "kind": _KIND,
            "specials": list(self._specials),
            "itos": list(self._itos),
            "counts": self._counts.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocab:
        """Rebuild a vocabulary from `to_dict()` output.

        Raises:
            ValueError: the dict is not a format-version-1 vocabulary or is inconsistent.
        """
        if not isinstance(data, Mapping) or data.get("kind") != _KIND:
            raise ValueError(f"not a saved vocabulary (expected kind {_KIND!r})")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"unsupported vocabulary format_version {version!r} (this seqnlp reads "
                f"{FORMAT_VERSION})"
            )
        itos, counts, specials = data.get("itos"), data.get("counts"), data.get("specials")
        for name, value, kind in (("itos", itos, str), ("counts", counts, int),
                                  ("specials", specials, str)):
            if not isinstance(value, list) or not all(
                isinstance(x, kind) and not isinstance(x, bool) for x in value
            ):
                raise ValueError(f"field {name!r} must be a list of {kind.__name__}")
        return cls(itos, counts, specials=specials)

    def save(self, path: PathLike) -> None:
        """Write the vocabulary as UTF-8 JSON, atomically (see `seqnlp.fileio.atomic_write`)."""
        with atomic_write(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, ensure_ascii=False)
            handle.write("\n")

    @classmethod
    def load(cls, path: PathLike) -> Vocab:
        """Read a vocabulary written by `save`.

        Raises:
            DataFormatError: naming the file, when it is missing, not UTF-8 JSON, of
                another format version, or inconsistent.
        """
        with open_binary(path) as stream:
            try:
                raw = stream.read()
            except COMPRESSION_ERRORS as exc:
                raise DataFormatError(
                    path, None, f"compressed data is truncated or corrupt ({exc})"
                ) from None
            except OSError as exc:
                raise access_error(path, exc, "cannot read") from None
        try:
            data = json.loads(raw.decode("utf-8-sig"))  # a byte-order mark is dropped
        except UnicodeDecodeError as exc:
            raise DataFormatError(path, None, f"invalid UTF-8 at byte {exc.start}") from None
        except json.JSONDecodeError as exc:
            raise DataFormatError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise DataFormatError(path, None, "invalid JSON: nested too deeply") from None
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise DataFormatError(os.fspath(path), None, str(exc)) from None
