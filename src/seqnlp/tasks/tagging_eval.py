"""Scoring a tagger on a split the way its users meet it: segmentation through
`segment_lines` on the running text (bakeoff measures), entities through `tag_sentences`
(conlleval's exact spans, overall and per type)."""

from __future__ import annotations

from typing import Any

from seqnlp.tasks.tagging_data import TaggingData
from seqnlp.text.tagging import spans_from_tags, words_from_bmes
from seqnlp.training.chunk_metrics import segmentation_scores, span_scores


def evaluate_tagger(loaded: Any, data: TaggingData, split: str = "test", batch_size: int = 64
                    ) -> dict[str, Any]:
    """Scores of a `LoadedTagger` (or anything with `.model`, `.vocabs`, `.normalize`) on a
    split, plus `"_text"`: a printable table.

    cws: precision, recall, f1, oov_rate, oov_recall, iv_recall, chars (OOV = not a word of
    the training text). ner: precision, recall, f1 and f1 per type.
    """
    sentences = getattr(data, split)
    if data.task == "cws":
        return _score_segmentation(loaded, data, sentences, batch_size)
    return _score_entities(loaded, data, sentences, batch_size)


def _score_segmentation(loaded: Any, data: TaggingData, sentences: list, batch_size: int
                        ) -> dict[str, Any]:
    from seqnlp.tasks.segment import segment_lines

    gold = [words_from_bmes(list(s.tokens), list(s.tags)) for s in sentences]
    predicted = segment_lines(loaded, ["".join(s.tokens) for s in sentences],
                              max(batch_size, 64))
    scores = segmentation_scores(gold, predicted, data.train_words).as_dict()
    scores["chars"] = sum(len(s.tokens) for s in sentences)
    scores["_text"] = (
        f"{data.name}: {len(sentences):,} sentences, {scores['chars']:,} characters\n"
        f"precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  "
        f"F1 {scores['f1']:.4f}\nOOV rate {scores['oov_rate']:.4f}  OOV recall "
        f"{scores['oov_recall']:.4f}  IV recall {scores['iv_recall']:.4f}")
    return scores


def _score_entities(loaded: Any, data: TaggingData, sentences: list, batch_size: int
                    ) -> dict[str, Any]:
    from seqnlp.tasks.segment import tag_sentences

    scheme = loaded.model.config.scheme
    predicted = tag_sentences(loaded, [list(s.tokens) for s in sentences], batch_size)
    result = span_scores([_spans(s.tags, data.scheme) for s in sentences],
                         [_spans(tags, scheme) for tags in predicted])
    scores: dict[str, Any] = result.as_dict()
    lines = [f"{data.name}: {len(sentences):,} sentences",
             f"{'type':<8} precision  recall      F1  gold",
             *(f"{name:<8} {prf.precision:9.4f}  {prf.recall:6.4f}  {prf.f1:6.4f}  {prf.gold:5,}"
               for name, prf in sorted(result.by_type.items())),
             f"{'overall':<8} {result.overall.precision:9.4f}  {result.overall.recall:6.4f}  "
             f"{result.overall.f1:6.4f}  {result.overall.gold:5,}"]
    scores["_text"] = "\n".join(lines)
    return scores


def _spans(tags: Any, scheme: str) -> list[tuple[int, int, str]]:
    return [tuple(span) for span in spans_from_tags(list(tags), scheme)]
