"""Scores of translations: sacreBLEU (Post, 2018) on detokenized, cased output against the
raw references, with its signature; chrF (Popović, 2015); and BLEU over lowercased
`tokenize_mt` tokens, the "tokenized BLEU" of older Multi30k tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seqnlp.text.mt_tokenize import tokenize_mt


def translation_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
    """Corpus scores of `hypotheses` against one reference each.

    Returns:
        {"bleu": sacreBLEU (cased, 13a tokenization, detokenized input), "chrf": chrF,
        "bleu_tok": BLEU of lowercased word tokens (no further tokenization),
        "bleu_signature", "chrf_signature": sacreBLEU's signatures, "sentences": count}.
    """
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    hyps, refs = list(hypotheses), [list(references)]
    bleu, chrf = BLEU(), CHRF()
    tokenized = BLEU(tokenize="none", force=True)
    lower = [" ".join(tokenize_mt(h, lowercase=True)) for h in hyps]
    lower_refs = [[" ".join(tokenize_mt(r, lowercase=True)) for r in refs[0]]]
    return {
        "bleu": bleu.corpus_score(hyps, refs).score,
        "chrf": chrf.corpus_score(hyps, refs).score,
        "bleu_tok": tokenized.corpus_score(lower, lower_refs).score,
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "sentences": len(hyps),
    }


def format_scores(scores: dict[str, Any], name: str = "") -> str:
    """The scores as the lines `seqnlp translate eval` prints."""
    head = f"{name}: " if name else ""
    lines = [f"{head}{scores['sentences']:,} sentences",
             f"BLEU {scores['bleu']:.2f}  ({scores['bleu_signature']})",
             f"chrF {scores['chrf']:.2f}  ({scores['chrf_signature']})",
             f"tokenized lowercased BLEU {scores['bleu_tok']:.2f}"]
    if "sentences_per_second" in scores:
        lines.append(f"decoding: {scores['sentences_per_second']:.1f} sentences/s "
                     f"(beam {scores.get('beam', 1)})")
    return "\n".join(lines)
