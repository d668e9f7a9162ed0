#!/usr/bin/env bash
# The seqnlp tour (`make demo`): each capability adds its step here.
# Data goes to .demo/data unless SEQNLP_DATA is set; datasets are imported from
# ../shared/datasets when that folder exists (no network needed).
set -euo pipefail
cd "$(dirname "$0")/.."
export SEQNLP_DATA="${SEQNLP_DATA:-$PWD/.demo/data}"
SHARED="${SEQNLP_SHARED:-$PWD/../shared/datasets}"
# Each step prints one line saying what it does (trains small, or uses a shipped model) and
# how big the model is; the demo ends with a table of the steps and their times.
NAMES=(); TIMES=(); CURRENT=""; STARTED=$SECONDS
end_step() {
    if [ -n "$CURRENT" ]; then NAMES+=("$CURRENT"); TIMES+=($((SECONDS - STARTED))); fi
    CURRENT=""
}
step() {  # step "short name" "what it does and how big"
    end_step
    CURRENT="$1"; STARTED=$SECONDS
    printf '\n\033[1m== %s: %s\033[0m\n' "$1" "$2"
}
summary() {
    end_step
    printf '\n\033[1m== What the demo ran\033[0m\n'
    printf '%-28s %8s\n' "step" "seconds"
    local total=0
    for i in "${!NAMES[@]}"; do
        printf '%-28s %8d\n' "${NAMES[$i]}" "${TIMES[$i]}"
        total=$((total + TIMES[i]))
    done
    printf '%-28s %8d\n' "total" "$total"
}

step "version" "the installed seqnlp"
seqnlp version

step "data" "the data sets seqnlp knows; SST imported and described (data home: $SEQNLP_DATA)"
seqnlp data list
import_data() {  # import from ../shared/datasets when present, else download
    if [ -d "$SHARED/$1" ]; then seqnlp data get "$1" --from "$SHARED/$1"; else seqnlp data get "$1"; fi
}
import_data sst
seqnlp data verify sst
seqnlp data info sst
OUT="$PWD/.demo/out"
mkdir -p "$OUT"

step "word vectors" "trains CBOW word2vec, 100 dimensions, 3 epochs over the 11.5M words of IMDB's 50,000 reviews (about 25 s)"
import_data imdb
import_data wordsim
seqnlp data text imdb -o "$OUT/imdb.txt"
seqnlp w2v train "$OUT/imdb.txt" -o "$OUT/imdb-vectors.bin" --architecture cbow --epochs 3 \
    --workers 2 --no-progress
seqnlp w2v similar "$OUT/imdb-vectors.bin" hilarious -n 5
seqnlp w2v analogy "$OUT/imdb-vectors.bin" boy girl man -n 3
seqnlp w2v analogy "$OUT/imdb-vectors.bin" man king woman -n 3
seqnlp w2v analogy "$OUT/imdb-vectors.bin" good better bad -n 3
seqnlp w2v eval "$OUT/imdb-vectors.bin"
seqnlp w2v plot "$OUT/imdb-vectors.bin" --kind heatmap --words man,boy,woman,girl,water -o "$OUT/heatmap.png"
seqnlp w2v plot "$OUT/imdb-vectors.bin" --kind tsne --top 200 -o "$OUT/tsne.png"

step "sentiment" "trains a bidirectional GRU (64 units, max pooling) on SST-2's 6,920 sentences for 2 epochs, starting from the IMDB vectors above"
seqnlp classify train --data sst2 --encoder gru --bidirectional --pooling max --hidden-size 64 \
    --embeddings "$OUT/imdb-vectors.bin" --epochs 2 --seed 0 --no-progress -o "$OUT/sst2.pt"
seqnlp classify eval "$OUT/sst2.pt" --data sst2 --split test
seqnlp classify predict "$OUT/sst2.pt" "a gorgeous , witty , seductive movie ." "a dull , lifeless mess ."

step "language model" "trains a 1x128 LSTM on PTB for 300 updates (about 1 minute), then generates and scores"
import_data ptb
seqnlp lm train --data ptb --num-layers 1 --embedding-dim 128 --hidden-size 128 --tie-weights \
    --max-steps 300 --epochs 1 --sampled-softmax 1000 --no-progress -o "$OUT/ptb-lm.pt"
seqnlp lm generate "$OUT/ptb-lm.pt" --prompt "the company said" --strategy greedy --no-repeat-ngram 2 --no-unk
seqnlp lm generate "$OUT/ptb-lm.pt" --prompt "the company said" --strategy beam --beam 5 -n 3 \
    --no-unk --no-repeat-ngram 2
seqnlp lm generate "$OUT/ptb-lm.pt" --prompt "the company said" --strategy sample --top-p 0.9 -n 2 --seed 1
printf 'the stock market fell sharply\nsharply fell market stock the\n' | seqnlp lm score "$OUT/ptb-lm.pt"

step "word segmentation" "uses the segmenter shipped in the package (BiLSTM-CRF, 7 MB; no training)"
seqnlp segment "我爱北京天安门" "共同创造美好的新世纪——二○○一年新年贺词" "访问 https://example.com 的 iPhone12 用户"
printf '南京市长江大桥\n' | seqnlp segment --sep " / "
printf '长江大桥\n' > "$OUT/user-words.txt"   # a user word list: these words stay whole
printf '南京市长江大桥\n' | seqnlp segment --sep " / " --dict "$OUT/user-words.txt"

step "named entities" "trains a BiLSTM-CRF (64 units, character CNN) for one epoch on CoNLL-2003's 14,041 sentences"
import_data conll2003
seqnlp tagger train --task ner --data conll2003 --scheme bioes --hidden-size 64 --embedding-dim 50 \
    --char-filters 20 --epochs 1 --lr 0.003 --patience 0 --seed 0 --no-progress -o "$OUT/ner.pt"
printf 'EU rejects German call to boycott British lamb .\nPeter Blackburn met officials in Brussels .\n' \
    | seqnlp tag "$OUT/ner.pt" --format json

step "sentiment trees" "trains a recursive network (RvNN, 30 units) over SST's 8,544 parse trees for 2 epochs, labels every phrase and draws the tree"
seqnlp trees train --model rvnn --data sst --epochs 2 --patience 0 --seed 0 --no-progress \
    -o "$OUT/trees-rvnn.pt"
seqnlp trees predict "$OUT/trees-rvnn.pt" "(3 (2 it) (4 (2 's) (4 great)))" \
    "a gorgeous , witty , seductive movie ." --format nodes --plot "$OUT/tree.png"

step "translation" "trains a GRU encoder-decoder with Luong attention (96 units, BPE 3,000 per language) on Multi30k's 29,000 German-English pairs for one epoch, then translates with beam search and draws the attention"
import_data multi30k
seqnlp translate train --data multi30k --src de --tgt en --vocab-size 3000 --embedding-dim 96 \
    --hidden-size 96 --epochs 1 --lr 3e-3 --seed 0 --no-progress -o "$OUT/de-en.pt"
seqnlp translate run "$OUT/de-en.pt" "Ein Mann fährt Fahrrad." "Zwei Hunde spielen im Schnee." \
    --beam 3 --attention-plot "$OUT/attention.png"

step "captioning" "trains a small CNN + the same attention decoder on 6,000 pictures of 1-4 handwritten digits (scikit-learn's, drawn anew each epoch) for 5 epochs (about 30 s), then captions a held-out test picture and draws where it looked"
seqnlp caption train --examples 6000 --channels 32 --hidden-size 48 --embedding-dim 16 --dropout 0 \
    --batch-size 32 --epochs 5 --seed 0 --no-progress -o "$OUT/digits.pt"
seqnlp caption run "$OUT/digits.pt" "3 1 4" --attention-plot "$OUT/show-attend-tell.png"

summary
printf '\nDemo outputs (vectors, pictures, models) are in %s\n' "$OUT"
