#!/usr/bin/env bash
# The GPU check of the Vulkan backend, for a lent GPU machine (see the developers' guide): the
# shader and whole-model tests on the GPU, then `hearth bench` on random-weight files in the
# DeepSeek-R1-Distill-Qwen-1.5B and -14B shapes (Q4_K_M), all layers on the GPU, beside
# llama.cpp's Vulkan llama-bench when one is given (decode also with HEARTH_DEVICE_SAMPLING=0:
# whole logits rows read back instead of each row's best); and the nomic-embed-text shape (F16), 16
# inputs of 512 tokens per forward pass (embed512 x16), all layers on the GPU. The GPU machine reaches no network and may
# lack compilers: build here and carry the build folder.
#
#   scripts/gpu-bench.sh BUILD_DIR [LLAMA_BENCH]      (BUILD_DIR holds hearth, tools/, tests/)
#
# Models are written to $MODELS (default /tmp/hearth-models) once; the 14B one needs ~30 GB of
# disk for its F16 step. GPU_BENCH_SKIP_14B=1 leaves it out (it takes minutes to generate).
set -euo pipefail
build=${1:?usage: scripts/gpu-bench.sh BUILD_DIR [LLAMA_BENCH]}
llama_bench=${2:-}
models=${MODELS:-/tmp/hearth-models}
here=$(cd "$(dirname "$0")/.." && pwd)
vocab="$here/../shared/testdata/qwen2-tiny-q8_0.gguf"
mkdir -p "$models"

# The Vulkan loader, where the machine lacks it (the device notes: .gl/*.deb carried along).
if ! ldconfig -p | grep -q libvulkan.so.1 && ls "$here"/.gl/*.deb >/dev/null 2>&1; then
  for f in "$here"/.gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

echo "== shader and model tests on the GPU"
"$build/tests/hearth_vulkan_tests" --gtest_brief=1 2>&1 | grep -v level=WARN | tail -15

make_model() {  # name n_embd n_layer n_head n_head_kv n_ff
  local out="$models/$1-q4_k_m.gguf"
  [ -f "$out" ] || "$build/tools/random-gguf" --vocab-from "$vocab" --arch qwen2 --n-embd "$2" \
      --n-layer "$3" --n-head "$4" --n-head-kv "$5" --n-ff "$6" --type q4_K_M -o "$out" 2>/dev/null
  echo "$out"
}
files=("$(make_model r1-1.5b 1536 28 12 2 8960)")
[ "${GPU_BENCH_SKIP_14B:-0}" = 1 ] || files+=("$(make_model r1-14b 5120 48 40 8 13824)")

for f in "${files[@]}"; do
  echo "== $(basename "$f")"
  "$build/hearth" bench "$f" -p 512 -n 128 -r 3 --num-gpu 999 --gpu vulkan
  # Decode reading whole logits rows back (152k floats a token) instead of the 40 best (issue
  # 13's device sampling): the difference is what sampling on the device saves.
  echo "-- tg128 with HEARTH_DEVICE_SAMPLING=0 (whole rows read back)"
  HEARTH_DEVICE_SAMPLING=0 "$build/hearth" bench "$f" -p 0 -n 128 -r 3 --num-gpu 999 --gpu vulkan
  if [ -n "$llama_bench" ]; then
    "$llama_bench" -m "$f" -p 512 -n 128 -r 3 -ngl 99
  fi
done

nomic="$models/nomic-shape-f16.gguf"
[ -f "$nomic" ] || "$build/tools/random-gguf" --arch nomic-bert --n-embd 768 --n-layer 12 --n-head 12 \
    --n-head-kv 12 --n-ff 3072 --n-ctx 2048 --rope-base 1000 -o "$nomic" 2>/dev/null
echo "== $(basename "$nomic")"
"$build/hearth" bench "$nomic" -p 512 --parallel 16 -r 3 --num-gpu 999 --gpu vulkan
