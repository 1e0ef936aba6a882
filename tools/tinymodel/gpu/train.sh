#!/usr/bin/env bash
# Runs on the lent GPU machine (PyTorch there, no network): trains from .gpu-train/resume.pt on shapes and
# emoji for MINUTES (default 9) and leaves the checkpoint and the log under $OUT. Export here afterwards:
#   /usr/bin/python3 tools/tinymodel/export.py --checkpoint <files_at>/checkpoint.pt --out models/t2istudio-tiny
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
cd tools/tinymodel
python3 train.py --minutes "${MINUTES:-9}" --batch 256 --lr 1e-3 --threads 8 \
  --emoji ../../.gpu-train/emoji --resume ../../.gpu-train/resume.pt --out "$OUT/checkpoint.pt" 2>&1 | tee "$OUT/train.log"
