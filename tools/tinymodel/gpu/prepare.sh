#!/usr/bin/env bash
# Packs what a GPU training run needs into .gpu-train/ (one device call carries at most 64 MiB):
# the trainer's code, the CLIP vocabulary, the built emoji data and the checkpoint to resume from.
#   tools/tinymodel/gpu/prepare.sh [CHECKPOINT]        (default: build/tinymodel/checkpoint.pt)
set -euo pipefail
cd "$(dirname "$0")/../../.."
ck=${1:-build/tinymodel/checkpoint.pt}
[ -f build/tinymodel/emoji/emoji.npz ] || /usr/bin/python3 tools/tinymodel/build_data.py --out build/tinymodel/data
rm -rf .gpu-train && mkdir -p .gpu-train
cp "$ck" .gpu-train/resume.pt
cp -r build/tinymodel/emoji .gpu-train/emoji
du -sh .gpu-train
