#!/usr/bin/env bash
# Packs into .gpukit/ (git-ignored) what a bare x86-64 GPU host needs to run the webgpu benchmark with no
# npm and no registry: this machine's node binary and dawn.node (xz), the bench bundled into one file by
# esbuild (with require, __filename and __dirname defined for the CommonJS inside), tfjs's wasm binary, the Vulkan loader .debs, and run.sh. About 30 MB. See bench/gpu-host/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
kit=.gpukit
rm -rf "$kit"
mkdir -p "$kit/debs" "$kit/webgpu/dist/linux-x64"

npx esbuild bench/gpu-host/kit-entry.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --external:@tensorflow/tfjs-node-gpu --log-level=warning --outfile="$kit/kit.mjs" \
  --banner:js="import { createRequire as __kitRequire } from 'node:module'; import { fileURLToPath as __kitPath } from 'node:url'; import { dirname as __kitDirname } from 'node:path'; const require = __kitRequire(import.meta.url); const __filename = __kitPath(import.meta.url); const __dirname = __kitDirname(__filename);"
xz -T0 -6 "$kit/kit.mjs"
# tfjs-backend-wasm looks for its binary beside the script that loads it (here the bundle); the SIMD one is what Node uses.
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm "$kit/"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$kit/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >"$kit/webgpu/dist/linux-x64/dawn.node.xz"
xz -T0 -6 -c "$(command -v node)" >"$kit/node.xz"

# The Vulkan loader (the GPU host's image may lack it; its NVIDIA driver brings the ICD), amd64 whatever this machine is.
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists)
mkdir -p /tmp/amd64-lists/partial
apt-get "${apt_opts[@]}" update -qq
(cd "$kit/debs" && apt-get "${apt_opts[@]}" download -qq libvulkan1)

cp bench/gpu-host/run.sh "$kit/run.sh"
chmod +x "$kit/run.sh"
du -sh "$kit"
ls -la "$kit" "$kit/debs"
