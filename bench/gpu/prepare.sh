#!/usr/bin/env bash
# Prepares the GPU check for a lent device (see README.md beside this file). Run here, from the repo root:
#   bench/gpu/prepare.sh
# It writes .gpu/ (git-ignored): the self-contained t2i and bench, a fixture model, and ONNX Runtime's
# CUDA provider (284 MB), each gzipped and split into parts of at most 60 MB, because one device call
# carries at most 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu/stage .gpu/model

# Both programs in one folder share one .NET runtime and one ONNX Runtime.
dotnet publish src/T2IStudio.Cli -c Release -r linux-x64 --self-contained -o .gpu/stage/apps --nologo
dotnet publish bench/T2IStudio.Bench -c Release -r linux-x64 --self-contained -o .gpu/stage/apps --nologo
provider=.gpu/stage/apps/libonnxruntime_providers_cuda.so
[ -f "$provider" ] || { echo "no CUDA provider in the publish output" >&2; exit 1; }
gzip -9 -c "$provider" | split -b 60M -d - .gpu/cuda.so.gz.
rm -f "$provider" .gpu/stage/apps/libonnxruntime_providers_tensorrt.so
tar -C .gpu/stage -cf - apps | gzip -9 | split -b 60M -d - .gpu/apps.tar.gz.
rm -rf .gpu/stage

# A fixture model in the SD layout (the embedded model replaces it once it exists under models/).
F=tests/T2IStudio.Generation.Tests/Fixtures
mkdir -p .gpu/model/{tokenizer,text_encoder,unet,vae_decoder,vae_encoder,scheduler}
cp tests/T2IStudio.Generation.Tests/TestData/clip-tokenizer/{vocab.json,merges.txt,tokenizer_config.json} .gpu/model/tokenizer/
cp $F/text_encoder_int64.onnx .gpu/model/text_encoder/model.onnx
cp $F/unet_int64.onnx .gpu/model/unet/model.onnx
cp $F/vae_decoder.onnx .gpu/model/vae_decoder/model.onnx
cp $F/vae_encoder.onnx .gpu/model/vae_encoder/model.onnx
echo '{"beta_start":0.00085,"beta_end":0.012,"beta_schedule":"scaled_linear","steps_offset":1}' > .gpu/model/scheduler/scheduler_config.json
echo '{"_class_name":"OnnxStableDiffusionPipeline"}' > .gpu/model/model_index.json
if [ -d models ]; then cp -r models .gpu/models; fi

echo "Prepared (each part travels in its own device call):"; du -sh .gpu/apps.tar.gz.* .gpu/cuda.so.gz.* .gpu/model
