#!/usr/bin/env bash
# Runs on the lent GPU machine (no .NET, no network) after every chunk has arrived; see README.md.
# Writes its report and images under $OUT.
set -uo pipefail
G=.gpu
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
exec > >(tee "$OUT/report.txt") 2>&1

if [ ! -x $G/apps/t2i ]; then
  cat $G/apps.tar.gz.* | gunzip | tar -C $G -xf -
  cat $G/cuda.so.gz.* | gunzip > $G/apps/libonnxruntime_providers_cuda.so
fi
# CUDA 13 and cuDNN 9 come from the image's CUDA toolkit and its nvidia-* wheels.
libs=$(python3 -c "import glob,os,nvidia; print(':'.join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(d+'/*/lib/*.so*')})))" 2>/dev/null)
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${libs}:${LD_LIBRARY_PATH:-}"
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
T2I=$G/apps/t2i
MODEL=${MODEL:-$G/model}
[ -d $G/models ] && MODEL=$(ls -d $G/models/*/ | head -n 1)
echo "== model: $MODEL"
$T2I models --root "$(dirname "$MODEL")"

common=(--model "$MODEL" --prompt "a large green triangle left of a small red circle" --steps 20 --seed 1 --scheduler ddim)
echo "== cuda vs cpu, same request"
$T2I generate "${common[@]}" --device cuda --out "$OUT/cuda.png" || echo "CUDA RUN FAILED"
$T2I generate "${common[@]}" --device cpu --out "$OUT/cpu.png"
python3 - "$OUT/cuda.png" "$OUT/cpu.png" <<'PY'
import sys
from PIL import Image
import numpy as np
a, b = (np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in sys.argv[1:3])
print(f"max |cuda - cpu| per channel: {np.abs(a - b).max()}  mean: {np.abs(a - b).mean():.4f}")
PY
echo "== determinism on cuda"
$T2I generate "${common[@]}" --device cuda --out "$OUT/cuda2.png" && cmp -s "$OUT/cuda.png" "$OUT/cuda2.png" && echo "byte-identical" || echo "DIFFERENT"

echo "== bench (cuda: free dimensions + host loop, fixed sizes + host loop, fixed sizes + resident latents (the CUDA default); then cpu)"
for size in 64 512; do
  $G/apps/T2IStudio.Bench --model "$MODEL" --device cuda --size $size --steps 20 --repeat 9 --shape-sessions 0 --resident off
  $G/apps/T2IStudio.Bench --model "$MODEL" --device cuda --size $size --steps 20 --repeat 9 --shape-sessions 2 --resident off
  $G/apps/T2IStudio.Bench --model "$MODEL" --device cuda --size $size --steps 20 --repeat 9 --shape-sessions 2 --resident on
done
$G/apps/T2IStudio.Bench --model "$MODEL" --device cpu --size 64 --steps 20 --repeat 3

# The SD 1.5-shaped model at 512², 50 steps, built here by its script (SDSHAPE=1; see sdshape.sh).
[ -n "${SDSHAPE:-}" ] && bash bench/gpu/sdshape.sh
