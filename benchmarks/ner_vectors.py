"""The English word vectors of the NER benchmark, built by one command: a lower-cased corpus
of the English running text at hand, then seqnlp's word2vec on it (one worker, so the file
is the same bit for bit on every run).

Corpus, in this order, one sentence (or review) per line, lower-cased:
  WikiText-2 train (2.05M tokens), the 50,000 IMDB reviews (11.5M; as `seqnlp data text imdb`
  writes them), PTB train without its `<unk>` tokens (0.8M; as stored, numbers as N), the
  CoNLL-2003 training sentences (0.2M; never the dev or test text), Multi30k's English
  training captions (0.4M; split at spaces only).
Vectors: skip-gram, 100 dimensions, window 5, 10 epochs, words seen at least 3 times
(68,388 words from 15.0M tokens).

Usage:
    python benchmarks/ner_vectors.py -o ner-w2v.txt      # about 3 minutes on one core
    python benchmarks/ner_conll.py --vectors ner-w2v.txt
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets"))
SOURCES = ("wikitext-2", "imdb", "ptb", "conll2003", "multi30k")
WORD2VEC = ["--architecture", "skipgram", "--size", "100", "--window", "5", "--epochs", "10",
            "--min-count", "3", "--workers", "1", "--seed", "1", "--text"]


def ensure_data() -> None:
    from seqnlp.datasets import dataset_status, fetch

    for name in SOURCES:
        if not dataset_status(name).complete:
            fetch(name, from_dir=SHARED / name)


def write_corpus(path: Path) -> int:
    """Write the corpus (see the module docstring); return its token count."""
    from seqnlp.datasets.home import split_files
    from seqnlp.datasets.text_export import corpus_lines
    from seqnlp.fileio import atomic_write, iter_lines
    from seqnlp.tasks.tagging_data import load_tagging_data

    def sentences():
        for name in ("wikitext-2", "imdb"):  # WikiText-2 keeps its <unk> as a word
            for words in corpus_lines(name):
                yield [w.lower() for w in words]
        for words in corpus_lines("ptb"):  # lower-case already, numbers as N
            yield [w for w in words if w != "<unk>"]
        for sentence in load_tagging_data("ner", "conll2003").train:
            yield [w.lower() for w in sentence.tokens]
        for _, line in iter_lines(split_files("multi30k")["train.en"], allow_empty=True):
            yield line.lower().split()

    tokens = 0
    with atomic_write(path, mode="w", encoding="utf-8") as out:
        for words in sentences():
            if words:
                out.write(" ".join(words) + "\n")
                tokens += len(words)
    return tokens


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, required=True, help="the vectors (text)")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="where to keep the corpus (default: beside the vectors)")
    args = parser.parse_args(argv)
    ensure_data()
    corpus = args.corpus or args.output.with_suffix(".corpus.txt")
    print(f"corpus: {write_corpus(corpus):,} tokens in {corpus}", flush=True)
    subprocess.run([sys.executable, "-m", "seqnlp", "w2v", "train", str(corpus), "-o",
                    str(args.output), *WORD2VEC], check=True)


if __name__ == "__main__":
    main()
