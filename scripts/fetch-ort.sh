#!/usr/bin/env bash
# fetch-ort.sh [DESTDIR]
#
# Puts the pinned ONNX Runtime shared library (CPU build, ORT 1.24.1, C API 24,
# the version github.com/yalue/onnxruntime_go v1.27.0 is written against) at
# DESTDIR/libonnxruntime.so.1. DESTDIR defaults to build/ort under the
# repository root; package runtime looks there when neither --ort-lib nor
# ONNXRUNTIME_SHARED_LIBRARY_PATH is given.
#
# The library comes out of the onnxruntime-node npm package, fetched with
# `npm pack` (never `npm install`: its install script downloads more). Only the
# one file is extracted, its SHA-256 is checked against the pin below, and it is
# moved into place atomically. Running the script again is a no-op when
# DESTDIR/VERSION already says 1.24.1 and the library is there.
#
# Environment:
#   ORT_NPM_TGZ  use this already-downloaded onnxruntime-node-1.24.1.tgz
#                instead of running npm (offline builds, CI caches).
set -euo pipefail

ORT_VERSION=1.24.1
PKG="onnxruntime-node@${ORT_VERSION}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${repo_root}/build/ort}"
lib="${dest}/libonnxruntime.so.1"
marker="${dest}/VERSION"

die() {
	echo "fetch-ort: error: $*" >&2
	exit 1
}

case "$(uname -s)" in
Linux) ;;
*) die "only Linux is supported (this is $(uname -s)); set ONNXRUNTIME_SHARED_LIBRARY_PATH to an ONNX Runtime ${ORT_VERSION} library instead" ;;
esac

# SHA-256 of libonnxruntime.so.1 inside onnxruntime-node-1.24.1.tgz.
case "$(uname -m)" in
x86_64 | amd64)
	arch=x64
	want_sha=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
	;;
aarch64 | arm64)
	arch=arm64
	want_sha=7954e8bdedb497f830c6a679e818d98399b7f4d81ade1126c3e0be74d28111ab
	;;
*) die "no prebuilt ONNX Runtime ${ORT_VERSION} for $(uname -m); build one and set ONNXRUNTIME_SHARED_LIBRARY_PATH" ;;
esac
member="package/bin/napi-v6/linux/${arch}/libonnxruntime.so.1"

if [[ -f "$lib" && -f "$marker" && "$(cat "$marker")" == "$ORT_VERSION" ]]; then
	echo "fetch-ort: ONNX Runtime ${ORT_VERSION} already at ${lib}"
	exit 0
fi

command -v tar >/dev/null 2>&1 || die "tar is not installed"
if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
	sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
	die "need sha256sum or shasum to verify the download"
fi

if [[ -n "${ORT_NPM_TGZ:-}" ]]; then
	[[ -f "$ORT_NPM_TGZ" ]] || die "ORT_NPM_TGZ=${ORT_NPM_TGZ} is not a file"
else
	command -v npm >/dev/null 2>&1 ||
		die "npm is not installed; install Node.js/npm, or download ${PKG} with 'npm pack' elsewhere and rerun with ORT_NPM_TGZ=/path/to/onnxruntime-node-${ORT_VERSION}.tgz, or set ONNXRUNTIME_SHARED_LIBRARY_PATH to an ONNX Runtime ${ORT_VERSION} library"
fi

mkdir -p "$dest"
# npm runs in the temp dir below, so every path must be absolute.
dest="$(cd "$dest" && pwd)"
lib="${dest}/libonnxruntime.so.1"
marker="${dest}/VERSION"
# The temp dir lives next to the destination so the final mv is a rename on
# the same file system, which makes it atomic.
tmp="$(mktemp -d "${dest}/.fetch-ort.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if [[ -n "${ORT_NPM_TGZ:-}" ]]; then
	tgz="$ORT_NPM_TGZ"
	echo "fetch-ort: using ${tgz}"
else
	echo "fetch-ort: npm pack ${PKG} (about 85 MB)"
	(cd "$tmp" && npm pack --ignore-scripts --silent --pack-destination "$tmp" "$PKG" >/dev/null) ||
		die "'npm pack ${PKG}' failed (see npm's message above)"
	tgz="$(ls "$tmp"/onnxruntime-node-*.tgz 2>/dev/null | head -n1)"
	[[ -n "$tgz" ]] || die "'npm pack ${PKG}' produced no tarball"
fi

tar -xzf "$tgz" -C "$tmp" "$member" ||
	die "could not extract ${member} from ${tgz} (see tar's message above)"
got_sha="$(sha256 "$tmp/$member")"
[[ "$got_sha" == "$want_sha" ]] ||
	die "checksum mismatch for ${member} from ${tgz}: got sha256 ${got_sha}, want ${want_sha}; the download is corrupt or not onnxruntime-node ${ORT_VERSION}"

chmod 0755 "$tmp/$member"
touch "$tmp/$member" # npm tarballs carry 1985 mtimes; give make a real one
mv -f "$tmp/$member" "$lib"
printf '%s\n' "$ORT_VERSION" >"$tmp/VERSION"
mv -f "$tmp/VERSION" "$marker"
echo "fetch-ort: installed ONNX Runtime ${ORT_VERSION} (${arch}, CPU) at ${lib}"
