#!/usr/bin/env bash
# The seqnlp tour (`make demo`): each capability adds its step here.
# Data goes to .demo/data unless SEQNLP_DATA is set; datasets are imported from
# ../shared/datasets when that folder exists (no network needed).
set -euo pipefail
cd "$(dirname "$0")/.."
export SEQNLP_DATA="${SEQNLP_DATA:-$PWD/.demo/data}"
SHARED="${SEQNLP_SHARED:-$PWD/../shared/datasets}"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "seqnlp version"
seqnlp version

step "Data sets seqnlp knows (data home: $SEQNLP_DATA)"
seqnlp data list

step "Fetch SST and show its statistics"
if [ -d "$SHARED/sst" ]; then
    seqnlp data get sst --from "$SHARED/sst"
else
    seqnlp data get sst
fi
seqnlp data verify sst
seqnlp data info sst

import_data() {  # import from ../shared/datasets when present, else download
    if [ -d "$SHARED/$1" ]; then seqnlp data get "$1" --from "$SHARED/$1"; else seqnlp data get "$1"; fi
}
OUT="$PWD/.demo/out"
mkdir -p "$OUT"

step "Word vectors: skip-gram on the PTB training text (3 epochs), then query and evaluate"
import_data ptb
import_data wordsim
seqnlp w2v train "$(seqnlp data path ptb)/ptb.train.txt.xz" -o "$OUT/ptb-vectors.bin" \
    --architecture skipgram --epochs 3 --workers 2 --no-progress
seqnlp w2v similar "$OUT/ptb-vectors.bin" stock -n 5
seqnlp w2v analogy "$OUT/ptb-vectors.bin" big bigger small -n 3
seqnlp w2v eval "$OUT/ptb-vectors.bin"
seqnlp w2v plot "$OUT/ptb-vectors.bin" --kind heatmap --words man,boy,woman,water -o "$OUT/heatmap.png"
seqnlp w2v plot "$OUT/ptb-vectors.bin" --kind tsne --top 200 -o "$OUT/tsne.png"

step "Sequence classification: a bidirectional LSTM with attention pooling on SST-2 (2 epochs on 3,000 sentences)"
seqnlp classify train --data sst2 --encoder lstm --bidirectional --pooling attention \
    --hidden-size 64 --embedding-dim 64 --epochs 2 --train-limit 3000 --seed 0 -o "$OUT/sst2.pt"
seqnlp classify eval "$OUT/sst2.pt" --data sst2
seqnlp classify predict "$OUT/sst2.pt" "a gorgeous , witty , seductive movie ." "a dull , lifeless mess ."

step "Language model: a 1x128 LSTM on PTB for 300 updates, then generation and scoring"
seqnlp lm train --data ptb --num-layers 1 --embedding-dim 128 --hidden-size 128 --tie-weights \
    --max-steps 300 --epochs 1 --sampled-softmax 1000 -o "$OUT/ptb-lm.pt"
seqnlp lm generate "$OUT/ptb-lm.pt" --prompt "the company said" --strategy greedy
seqnlp lm generate "$OUT/ptb-lm.pt" --prompt "the company said" --strategy beam --beam 5 -n 3 --no-unk
seqnlp lm generate "$OUT/ptb-lm.pt" --prompt "the company said" --strategy sample --top-p 0.9 -n 2 --seed 1
echo "the stock market fell sharply" | seqnlp lm score "$OUT/ptb-lm.pt"

step "Chinese word segmentation with the segmenter shipped in the package (no training)"
seqnlp segment "我爱北京天安门" "共同创造美好的新世纪——二○○一年新年贺词" "访问 https://example.com 的 iPhone12 用户"
printf '北京大学生前来应聘\n' | seqnlp segment --sep " / "
printf '北京大学\n' > "$OUT/user-words.txt"
printf '北京大学生前来应聘\n' | seqnlp segment --sep " / " --dict "$OUT/user-words.txt"

step "Named entities: a BiLSTM-CRF (64 units, character CNN) trained for one epoch on CoNLL-2003's 14,041 sentences"
import_data conll2003
seqnlp tagger train --task ner --data conll2003 --scheme bioes --hidden-size 64 --embedding-dim 50 \
    --char-filters 20 --epochs 1 --lr 0.003 --patience 0 --seed 0 -o "$OUT/ner.pt"
printf 'EU rejects German call to boycott British lamb .\nPeter Blackburn met officials in Brussels .\n' \
    | seqnlp tag "$OUT/ner.pt" --format json

printf '\nDemo outputs (vectors, pictures, models) are in %s\n' "$OUT"
