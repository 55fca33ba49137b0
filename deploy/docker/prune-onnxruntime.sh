#!/bin/sh
# Removes the onnxruntime-node binaries of other platforms (macOS, Windows, the other Linux
# architecture: about 250 MB of the package's 320 MB), keeping linux/<arch> only.
#   prune-onnxruntime.sh [BIN_DIR] [ARCH]
# BIN_DIR defaults to node_modules/onnxruntime-node/bin; ARCH (x64 or arm64) to this machine's.
set -eu
bin="${1:-node_modules/onnxruntime-node/bin}"
arch="${2:-}"
if [ -z "$arch" ]; then
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "prune-onnxruntime: onnxruntime-node has no Linux binaries for $(uname -m)" >&2; exit 1 ;;
  esac
fi
[ -d "$bin" ] || { echo "prune-onnxruntime: no directory $bin" >&2; exit 1; }
for napi in "$bin"/napi-v*; do
  [ -d "$napi" ] || continue
  for platform in "$napi"/*; do
    if [ "$(basename "$platform")" != linux ]; then
      rm -rf "$platform"
      continue
    fi
    for dir in "$platform"/*; do
      [ "$(basename "$dir")" = "$arch" ] || rm -rf "$dir"
    done
  done
done
# What is left must still load: one binding for linux/<arch>.
set -- "$bin"/napi-v*/linux/"$arch"/onnxruntime_binding.node
[ -f "$1" ] || { echo "prune-onnxruntime: no onnxruntime binding left for linux/$arch in $bin" >&2; exit 1; }
echo "prune-onnxruntime: kept linux/$arch"
