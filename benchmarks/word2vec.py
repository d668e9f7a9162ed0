"""Word2vec speed and quality: seqnlp against gensim 4.4 on the IMDB reviews.

The corpus is all 50,000 labelled reviews of the IMDB dataset (train + test TSV),
`<br />` removed, lower-cased and tokenized with one regular expression (runs of Unicode
letters and digits, inner apostrophes kept: `don't`; punctuation dropped), one review per
line (about 11.5M tokens), written once to a cache folder. text8 is used too when a copy
exists under the shared datasets (it does not here: the run records that it was skipped).

Both tools train with the same options (vector_size 100, window 5, negative 5, sample 1e-3,
min_count 5, 5 epochs, 2 threads, learning rate decaying to 0.0001) and each tool's default
initial learning rate: gensim 0.025; seqnlp the C tool's 0.025 for skip-gram and 0.05 for
CBOW. For transparency CBOW is also run by seqnlp at gensim's 0.025 (row "seqnlp@0.025").
gensim runs in `corpus_file` mode,
each run in its own subprocess so that its peak RSS (VmHWM, read right after training) is
its own. words/s = corpus tokens x epochs / wall time of `train` (the vocabulary pass is
timed separately). Both models are scored by the same code: analogy accuracy on
questions-words (3CosAdd, restrict_vocab 30,000, case-insensitive, as gensim) and Spearman
correlation on WordSim-353 and SimLex-999.

Usage:
    python benchmarks/word2vec.py            # full run, writes benchmarks/results/word2vec.*
    python benchmarks/word2vec.py --quick    # 1 epoch on a fifth of the corpus, for development
"""

from __future__ import annotations

import argparse
import datetime
import json
import lzma
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SEQNLP_SHARED", REPO.parent / "shared" / "datasets"))
WORDSIM = SHARED / "wordsim"
RESULTS = REPO / "benchmarks" / "results"
OPTIONS = {"vector_size": 100, "window": 5, "negative": 5, "sample": 1e-3, "min_count": 5,
           "min_alpha": 0.0001}


# ---- corpora ------------------------------------------------------------------------------

def imdb_tokens(text: str) -> list[str]:
    """The benchmark's tokenizer: drop `<br />`, lower-case, keep words (see module doc);
    `seqnlp data text imdb` writes the same corpus."""
    from seqnlp.datasets.text_export import review_tokens

    return review_tokens(text)


def build_imdb(cache: Path) -> tuple[Path, int]:
    """Write the IMDB corpus (one review per line) once; return its path and token count."""
    path = cache / "imdb_reviews.txt"
    stamp = cache / "imdb_reviews.tokens"
    if path.exists() and stamp.exists():
        return path, int(stamp.read_text())
    cache.mkdir(parents=True, exist_ok=True)
    tokens = 0
    with open(path.with_suffix(".tmp"), "w", encoding="utf-8") as out:
        for split in ("train", "test"):
            with lzma.open(SHARED / "imdb" / f"{split}.tsv.xz", "rt", encoding="utf-8") as src:
                for line in src:
                    words = imdb_tokens(line.rstrip("\n").partition("\t")[2])
                    tokens += len(words)
                    out.write(" ".join(words) + "\n")
    os.replace(path.with_suffix(".tmp"), path)
    stamp.write_text(str(tokens))
    return path, tokens


def head_of(corpus: Path, fraction: float, cache: Path) -> tuple[Path, int]:
    """The first `fraction` of the corpus lines, for --quick runs."""
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    part = lines[: max(1, int(len(lines) * fraction))]
    path = cache / f"{corpus.stem}.head{fraction:g}.txt"
    path.write_text("".join(part), encoding="utf-8")
    return path, sum(len(line.split()) for line in part)


def find_text8() -> Path | None:
    for name in ("text8", "text8.xz", "text8.gz"):
        if (SHARED / "text8" / name).exists():
            return SHARED / "text8" / name
    return None


# ---- one run, in a child process ------------------------------------------------------------

def peak_rss_mib() -> float:
    """VmHWM of this process, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def train_seqnlp(arch: str, corpus: Path, epochs: int, workers: int, seed: int,
                 alpha: float | None):
    from seqnlp.word2vec.model import Word2Vec

    model = Word2Vec(architecture=arch, epochs=epochs, workers=workers, seed=seed, alpha=alpha,
                     **OPTIONS)
    start = time.perf_counter()
    model.build_vocab(corpus)
    vocab_s = time.perf_counter() - start
    start = time.perf_counter()
    reports = model.train(corpus, progress=False)
    train_s = time.perf_counter() - start
    losses = [r.mean_loss for r in reports]
    return model.w_in, model.vocab.index_to_key, vocab_s, train_s, losses


def train_gensim(arch: str, corpus: Path, epochs: int, workers: int, seed: int,
                 alpha: float | None):
    from gensim.models import Word2Vec as GensimWord2Vec

    extra = {} if alpha is None else {"alpha": alpha}
    model = GensimWord2Vec(sg=int(arch == "skipgram"), hs=0, epochs=epochs, workers=workers,
                           seed=seed, **OPTIONS, **extra)
    start = time.perf_counter()
    model.build_vocab(corpus_file=str(corpus))
    vocab_s = time.perf_counter() - start
    start = time.perf_counter()
    model.train(corpus_file=str(corpus), total_examples=model.corpus_count,
                total_words=model.corpus_total_words, epochs=epochs)
    train_s = time.perf_counter() - start
    return model.wv.vectors, list(model.wv.index_to_key), vocab_s, train_s, []


def evaluate(vectors, words) -> dict[str, object]:
    """Analogy accuracy and word-pair Spearman, the same code for both tools."""
    try:
        from seqnlp.embeddings.evaluate import evaluate_analogies, evaluate_word_pairs
        from seqnlp.word2vec.keyedvectors import KeyedVectors
    except ImportError:
        return _evaluate_with_gensim(vectors, words)
    kv = KeyedVectors(vectors, words)
    analogies = evaluate_analogies(kv, WORDSIM / "questions-words.txt", restrict_vocab=30_000)
    pairs = {name: evaluate_word_pairs(kv, WORDSIM / file)
             for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt"))}
    return {"evaluator": "seqnlp.embeddings.evaluate",
            "analogy_accuracy": 100 * analogies.total.accuracy,
            "analogy_answered": analogies.total.answered,
            **{f"{n}_spearman": 100 * r.spearman for n, r in pairs.items()}}


def _evaluate_with_gensim(vectors, words) -> dict[str, object]:
    from gensim.models import KeyedVectors as GensimKeyedVectors

    kv = GensimKeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors)
    score, sections = kv.evaluate_word_analogies(str(WORDSIM / "questions-words.txt"),
                                                 restrict_vocab=30_000)
    total = sections[-1]
    out = {"evaluator": "gensim.KeyedVectors", "analogy_accuracy": 100 * score,
           "analogy_answered": len(total["correct"]) + len(total["incorrect"])}
    for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        _, spearman, _ = kv.evaluate_word_pairs(str(WORDSIM / file))
        out[f"{name}_spearman"] = 100 * spearman[0]
    return out


def child(args: argparse.Namespace) -> None:
    train = train_seqnlp if args.child == "seqnlp" else train_gensim
    vectors, words, vocab_s, train_s, losses = train(
        args.arch, Path(args.corpus), args.epochs, args.workers, args.seed, args.alpha)
    tool = args.child if args.alpha is None else f"{args.child}@{args.alpha:g}"
    result = {"tool": tool, "architecture": args.arch, "vocab_size": len(words),
              "vocab_seconds": vocab_s, "train_seconds": train_s,
              "words_per_sec": args.tokens * args.epochs / train_s,
              "peak_rss_mib": peak_rss_mib(), "epoch_mean_losses": losses}
    result.update(evaluate(vectors, words))
    print("RESULT " + json.dumps(result), flush=True)


def run_child(tool: str, arch: str, corpus: Path, tokens: int, args: argparse.Namespace,
              alpha: float | None = None) -> dict:
    command = [sys.executable, __file__, "--child", tool, "--arch", arch, "--corpus",
               str(corpus), "--tokens", str(tokens), "--epochs", str(args.epochs),
               "--workers", str(args.workers), "--seed", str(args.seed)]
    if alpha is not None:
        command += ["--alpha", str(alpha)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{tool} {arch} failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(lines[-1][len("RESULT "):])
    print(f"  {result['tool']:13s} {arch:8s} {result['words_per_sec']:>12,.0f} words/s "
          f"{result['train_seconds']:7.1f} s  RSS {result['peak_rss_mib']:6.0f} MiB  "
          f"analogy {result['analogy_accuracy']:5.2f}%  ws353 {result['wordsim353_spearman']:5.2f}"
          f"  simlex {result['simlex999_spearman']:5.2f}", flush=True)
    return result


def warm_numba_cache() -> None:
    """Compile (or load from cache) the kernels once, outside every timed run."""
    from seqnlp.word2vec.model import Word2Vec

    toy = [["a", "b", "c", "d", "a", "b"]] * 20
    for arch in ("skipgram", "cbow"):
        Word2Vec(architecture=arch, min_count=1, vector_size=8, epochs=1, workers=1).train(
            toy, progress=False)


# ---- the comparison -------------------------------------------------------------------------

def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    import gensim
    import numba
    import numpy

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba.__version__, "gensim": gensim.__version__}


def compare(runs: list[dict]) -> list[dict]:
    """Each seqnlp run relative to gensim on the same corpus and architecture."""
    out = []
    for ours in (r for r in runs if r["tool"].startswith("seqnlp")):
        theirs = next((r for r in runs if r["tool"] == "gensim"
                       and r["corpus"] == ours["corpus"]
                       and r["architecture"] == ours["architecture"]), None)
        if theirs is None:
            continue
        out.append({
            "corpus": ours["corpus"], "architecture": ours["architecture"], "tool": ours["tool"],
            "speed_ratio": ours["words_per_sec"] / theirs["words_per_sec"],
            "rss_ratio": ours["peak_rss_mib"] / theirs["peak_rss_mib"],
            **{f"{key}_diff": ours[key] - theirs[key] for key in
               ("analogy_accuracy", "wordsim353_spearman", "simlex999_spearman")},
        })
    return out


def markdown(report: dict) -> str:
    head = [
        "# word2vec: seqnlp vs gensim",
        "",
        f"Command: `{report['command']}`  ",
        f"Date: {report['date']}  ",
        f"CPU: {report['cpu']} ({report['cpu_count']} cores), {report['workers']} threads "
        f"per run  ",
        f"Versions: {', '.join(f'{k} {v}' for k, v in report['versions'].items())}  ",
        f"Options: {report['options']}, epochs {report['epochs']}  ",
        f"Evaluator: {report['runs'][0]['evaluator'] if report['runs'] else '-'}",
        "",
    ]
    for note in report["notes"]:
        head.append(f"- {note}")
    head += ["", "| corpus | arch | tool | words/s | train s | vocab s | peak RSS MiB | analogy % "
             "| WS353 rho | SimLex rho |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["runs"]:
        head.append(
            f"| {r['corpus']} | {r['architecture']} | {r['tool']} | {r['words_per_sec']:,.0f} "
            f"| {r['train_seconds']:.1f} | {r['vocab_seconds']:.1f} | {r['peak_rss_mib']:.0f} "
            f"| {r['analogy_accuracy']:.2f} | {r['wordsim353_spearman']:.2f} "
            f"| {r['simlex999_spearman']:.2f} |")
    head += ["", "| corpus | arch | run | speed vs gensim | RSS vs gensim | analogy diff "
             "| WS353 diff | SimLex diff |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for c in report["comparison"]:
        head.append(
            f"| {c['corpus']} | {c['architecture']} | {c['tool']} | {c['speed_ratio']:.2f}x "
            f"| {c['rss_ratio']:.2f} | {c['analogy_accuracy_diff']:+.2f} "
            f"| {c['wordsim353_spearman_diff']:+.2f} | {c['simlex999_spearman_diff']:+.2f} |")
    return "\n".join(head) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 epoch on the first fifth of the corpus; results to --out")
    parser.add_argument("--archs", default="skipgram,cbow")
    parser.add_argument("--tools", default="gensim,seqnlp")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "seqnlp-bench")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for word2vec.json/.md (default: benchmarks/results, "
                             "or the cache folder with --quick)")
    # Internal: one training run in a child process.
    parser.add_argument("--child", choices=("seqnlp", "gensim"), help=argparse.SUPPRESS)
    parser.add_argument("--arch", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--alpha", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    args.epochs = args.epochs or (1 if args.quick else 5)
    out = args.out or (args.cache if args.quick else RESULTS)
    notes = [
        "words/s = corpus tokens x epochs / wall time of train(); gensim in corpus_file mode.",
        "seqnlp skip-gram shares the negatives of a centre word across its window "
        "(pWord2Vec, Ji et al. 2016); CBOW draws them per centre word as the C tool, and "
        "prefetches the matrix rows of the centre words two steps ahead (same updates).",
        "Initial learning rate: each tool's default (gensim 0.025; seqnlp 0.025 skip-gram, "
        "0.05 CBOW as word2vec.c); seqnlp@0.025 is seqnlp CBOW at gensim's rate. seqnlp "
        "decays the rate linearly over all epochs. gensim's corpus_file mode does not: each "
        "of its 2 workers reads half the corpus but measures its progress against the whole "
        "(word2vec_corpusfile.pyx, get_next_alpha), so within an epoch the rate falls only "
        "half-way, then jumps; its mean rate is ~10% higher and its last rate 0.0025.",
        "Peak RSS is VmHWM read right after training. seqnlp loads its Numba kernel before "
        "reading the corpus (LLVM makes ~60 MB of its code resident), hands LLVM's clean "
        "code pages back (madvise), trims the heap after the vocabulary pass and pins "
        "glibc's mmap threshold while streaming; see seqnlp/word2vec/jit.py and model.py.",
    ]
    imdb, tokens = build_imdb(args.cache)
    corpora = [("imdb", imdb, tokens)]
    if args.quick:
        path, count = head_of(imdb, 0.2, args.cache)
        corpora = [("imdb-head0.2", path, count)]
        notes.append("--quick: first fifth of the IMDB corpus, 1 epoch")
    text8 = find_text8()
    if text8 is None:
        notes.append(f"text8 skipped: no copy under {SHARED / 'text8'}")
    elif not args.quick:
        corpora.append(("text8", text8, sum(1 for _ in _words(text8))))
    warm_numba_cache()
    load_before = os.getloadavg()
    runs = []
    for name, path, count in corpora:
        print(f"{name}: {count:,} tokens, {path}", flush=True)
        for arch in args.archs.split(","):
            for tool in args.tools.split(","):
                result = run_child(tool, arch, path, count, args)
                runs.append({"corpus": name, "tokens": count, **result})
            if arch == "cbow" and "seqnlp" in args.tools:  # seqnlp at gensim's learning rate
                result = run_child("seqnlp", arch, path, count, args, alpha=0.025)
                runs.append({"corpus": name, "tokens": count, **result})
    report = {
        "command": " ".join(["python", "benchmarks/word2vec.py", *(argv or sys.argv[1:])]),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cpu_count": os.cpu_count(), "versions": versions(),
        "workers": args.workers, "epochs": args.epochs, "options": OPTIONS, "notes": notes,
        "runs": runs, "comparison": compare(runs),
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }
    notes.append("1-minute load average {:.1f} before, {:.1f} after the runs (other jobs "
                 "on the machine slow both tools)".format(load_before[0], os.getloadavg()[0]))
    out.mkdir(parents=True, exist_ok=True)
    (out / "word2vec.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "word2vec.md").write_text(markdown(report))
    print(markdown(report))


def _words(path: Path):
    from seqnlp.word2vec.corpus import LineSentences

    for sentence in LineSentences(path):
        yield from sentence


if __name__ == "__main__":
    main()
