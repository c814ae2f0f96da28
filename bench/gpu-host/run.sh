#!/usr/bin/env bash
# Runs on the GPU host from the packed kit (bench/gpu-host/pack.sh): unpacks node and dawn.node, makes the
# Vulkan loader and the NVIDIA ICD visible, prints the probe, then runs the webgpu benchmark; everything
# it writes goes to $OUT (the device tool's result folder). Between the two it checks exactness on the GPU
# (`verify`, VERIFY_MODEL). Arguments go to the bench (default: --shape 1b).
set -uo pipefail
kit="$(cd "$(dirname "$0")" && pwd)"
out="${OUT:-/tmp/dms-kit-out}"
mkdir -p "$out"
work=/tmp/dms-kit
rm -rf "$work"
mkdir -p "$work/node_modules/webgpu/dist/linux-x64"

unxz_to() { # unxz_to SRC DST: xz where the host has it, else Python's lzma
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"; fi
}

if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
  for f in "$kit"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
  done
fi
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true

unxz_to "$kit/node.xz" "$work/node" && chmod +x "$work/node"
unxz_to "$kit/webgpu/dist/linux-x64/dawn.node.xz" "$work/node_modules/webgpu/dist/linux-x64/dawn.node"
cp "$kit/webgpu/package.json" "$kit/webgpu/index.js" "$work/node_modules/webgpu/"
unxz_to "$kit/kit.mjs.xz" "$work/kit.mjs"
cp "$kit"/*.wasm "$work/"
"$work/node" --version

"$work/node" "$work/kit.mjs" probe 2>&1 | tee "$out/probe.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "probe failed: no bench"; exit 1; }
# Exactness on this GPU: the eval of a shipped checkpoint on wasm and on webgpu (f32 weights must agree, f16 is shown).
model="${VERIFY_MODEL:-models/reasoner-dms-r8}"
if [ -f "$model/config.json" ]; then
  "$work/node" "$work/kit.mjs" verify "$model" --count "${VERIFY_COUNT:-16}" --method dms --ratio 8 2>&1 | grep -v 'artificially reduced' | tee "$out/verify.txt"
else
  echo "no $model/config.json here (carry it to verify exactness): verify skipped" | tee "$out/verify.txt"
fi
[ "$#" -gt 0 ] || set -- --shape 1b
# KIT_SECONDS bounds the bench (default 420 s); its results are rewritten after every point, so a cut run keeps what it measured.
timeout "${KIT_SECONDS:-420}" "$work/node" "$work/kit.mjs" bench "$@" --out "$out" 2>&1 | grep -v 'artificially reduced' | tee "$out/bench.log"
echo "bench exit ${PIPESTATUS[0]}"
ls -la "$out"
