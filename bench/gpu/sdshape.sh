#!/usr/bin/env bash
# Runs on the lent GPU machine after device.sh has unpacked the apps (see README.md): builds the SD 1.5-shaped
# fp16 model there with the machine's own PyTorch (only tools/sdshape/make_sd_shaped.py travels, not 1.7 GB of
# weights), then times it at 512², 50 steps: the pipeline against its floor (fp16, IO binding, resident latents),
# and images per second at batch 1 and 8. Writes sdshape.txt under $OUT.
#   bash bench/gpu/sdshape.sh            (DRY=1 prints the commands without running them)
set -uo pipefail
G=.gpu
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
exec > >(tee "$OUT/sdshape.txt") 2>&1
run() { echo "+ $*"; [ -n "${DRY:-}" ] || "$@"; }

libs=$(python3 -c "import glob,os,nvidia; print(':'.join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(d+'/*/lib/*.so*')})))" 2>/dev/null)
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${libs}:${LD_LIBRARY_PATH:-}"
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
MODEL=$G/sd15-fp16
BENCH=$G/apps/T2IStudio.Bench

if [ ! -f $MODEL/unet/model.onnx ]; then
  run python3 tools/sdshape/make_sd_shaped.py $MODEL --fp16 --no-vae-encoder || { echo "EXPORT FAILED"; exit 1; }
fi
run cat $MODEL/parameter_counts.json
# Pipeline vs floor at batch 1 (fixed-size sessions and resident latents are the CUDA defaults; said explicitly here).
run $BENCH --model $MODEL --device cuda --size 512 --steps 50 --repeat 3 --shape-sessions 2 --resident on
# Images per second at batch 1 and 8 (one job of BatchSize k; k separate jobs once cross-user batching is merged).
run $BENCH batch --model $MODEL --size 512 --steps 50 --device cuda --batches 1,8 --repeat 2
echo "targets: < 0.45 s per image at batch 1 (the 'image' line / 1000, or 1 / img/s at batch 1); batch 8 >= 2.5x batch 1's images per second"
