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
