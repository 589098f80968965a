#!/usr/bin/env bash
# Runs the reproduce harness on a CUDA machine, resumably, and collects what it wrote.
#
#   scripts/gpu_reproduce.sh --preset gpu --only seqft,o-lora [--train-per-task N ...]
#
# Every argument goes to `reproduce`. Environment:
#   DEVICE     cuda (default) or cuda-unfused
#   BIN        the reproduce binary (default target/release/reproduce; build it with
#              `cargo build --release --features cuda -p strata-bench --bin reproduce`)
#   RESULTS    output root (default results); runs resume from <RESULTS>/<preset>/<method>/checkpoint
#   LIMIT_S    stop reproduce after this many seconds (SIGINT; finished tasks stay checkpointed
#              and the next invocation resumes them), default: no limit
#   COLLECT    if set, a directory that receives results.tgz (every results.json, table.* and
#              lr-selection.json under RESULTS, checkpoints left out) and the log
#   STRATA_MODEL_DIR, STRATA_DATA_DIR   model cache and data root (see docs/data.md, docs/models.md)
#   STRATA_KERNEL_CACHE  cubecl's autotune results and compiled kernels (default .kernel-cache);
#              hand a copy to a fresh machine to skip the warm-up it already paid
#              (docs/benchmarks.md, "kernel caches"); COLLECT also packs it as kernel-cache.tgz
# CUBECL_AUTOTUNE_LEVEL defaults to minimal and STRATA_DEVICE_NAME to the GPU's name.
set -uo pipefail
BIN=${BIN:-target/release/reproduce}
RESULTS=${RESULTS:-results}
export CUBECL_AUTOTUNE_LEVEL=${CUBECL_AUTOTUNE_LEVEL:-minimal}
export STRATA_KERNEL_CACHE=${STRATA_KERNEL_CACHE:-.kernel-cache}
if [ -z "${STRATA_DEVICE_NAME:-}" ] && command -v nvidia-smi >/dev/null; then
    STRATA_DEVICE_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
    export STRATA_DEVICE_NAME
fi
log=$(mktemp)
start=$(date +%s)
echo "== $(date -u +%FT%TZ) $BIN --device ${DEVICE:-cuda} --out $RESULTS $*" | tee -a "$log"
if [ -n "${LIMIT_S:-}" ]; then
    timeout -s INT -k 20 "$LIMIT_S" "$BIN" --device "${DEVICE:-cuda}" --out "$RESULTS" "$@" 2>&1 | tee -a "$log"
else
    "$BIN" --device "${DEVICE:-cuda}" --out "$RESULTS" "$@" 2>&1 | tee -a "$log"
fi
rc=${PIPESTATUS[0]}
echo "== exit $rc after $(( $(date +%s) - start )) s" | tee -a "$log"
if [ -n "${COLLECT:-}" ]; then
    mkdir -p "$COLLECT"
    (cd "$RESULTS" && find . \( -name 'results.*' -o -name 'table.*' -o -name 'lr-selection.json' \) -not -path '*/checkpoint/*' -print0 | tar czf "$COLLECT/results.tgz" --null -T -)
    cp "$log" "$COLLECT/reproduce.log"
    [ -d "$STRATA_KERNEL_CACHE" ] && tar czf "$COLLECT/kernel-cache.tgz" --exclude='*.lock' -C "$STRATA_KERNEL_CACHE" .
fi
rm -f "$log"
exit "$rc"
