#!/usr/bin/env bash
# Unpacks what was carried to the GPU machine (docs/reproduction.md, "Rerunning"):
#   DIR/model.xz.part*   the xz-compressed SmolLM2-135M-Instruct GGUF, split to fit the carry
#                        limit: joined, decompressed into $STRATA_MODEL_DIR/smollm2-135m/ and
#                        checked against its sha256 (docs/models.md)
#   DIR/*.xz (others)    release binaries (`cargo xtask device-bin`, then `xz -9`): into
#                        $BIN_DIR/<name>, executable
#   DIR/kernel-cache.tgz or .tar.xz   a kernel cache collected by scripts/gpu_reproduce.sh
#                        (xz packs it about 2.5× smaller): into $STRATA_KERNEL_CACHE
# Usage: scripts/device_unpack.sh DIR... ; uses Python's lzma (no xz binary needed).
set -euo pipefail
MODEL_DIR=${STRATA_MODEL_DIR:-/tmp/strata-models}
BIN_DIR=${BIN_DIR:-bin}
KERNEL_CACHE=${STRATA_KERNEL_CACHE:-.kernel-cache}
# sha256 of the pinned GGUF (docs/models.md).
MODEL_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
mkdir -p "$BIN_DIR"
parts=()
for dir in "$@"; do
    for f in "$dir"/*; do
        case "$f" in
            *.xz.part*) parts+=("$f") ;;
            */kernel-cache.tgz|*/kernel-cache.tar.xz) mkdir -p "$KERNEL_CACHE"
                  python3 -c "import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$f" "$KERNEL_CACHE"
                  echo "kernel cache -> $KERNEL_CACHE" ;;
            *.xz) name=$(basename "$f" .xz)
                  python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$f" "$BIN_DIR/$name"
                  chmod +x "$BIN_DIR/$name"; echo "binary -> $BIN_DIR/$name" ;;
        esac
    done
done
if [ ${#parts[@]} -gt 0 ]; then
    gguf="$MODEL_DIR/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf"
    mkdir -p "$(dirname "$gguf")"
    IFS=$'\n' sorted=($(printf '%s\n' "${parts[@]}" | sort)); unset IFS
    # Decompress beside the target and move it into place only once the checksum matches, so
    # a missing or corrupt part never replaces a good model.
    tmp="$gguf.partial"
    if ! cat "${sorted[@]}" | python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), open(sys.argv[1],'wb'))" "$tmp"; then
        rm -f "$tmp"
        echo "model parts ${sorted[*]} do not decompress (are all parts there?)" >&2
        exit 1
    fi
    sha=$(sha256sum "$tmp" | cut -d' ' -f1)
    if [ "$sha" != "$MODEL_SHA" ]; then
        rm -f "$tmp"
        echo "model sha256 $sha, expected $MODEL_SHA (are all parts there?)" >&2
        exit 1
    fi
    mv "$tmp" "$gguf"
    echo "model -> $gguf (sha256 $sha)"
fi
