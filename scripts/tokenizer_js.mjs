// Encodes strings with Hugging Face's JS tokenizers, for check_tokenizer.py.
//
//   node scripts/tokenizer_js.mjs LIB.mjs TOKENIZER_DIR IN.json OUT.json
//
// LIB.mjs is dist/tokenizers.mjs of an `npm pack @huggingface/tokenizers`
// unpacked outside the repository. IN.json is a list of strings; OUT.json
// gets {"ids": [[...], ...], "decoded": ["...", ...]}.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [lib, dir, inPath, outPath] = process.argv.slice(2);
const { Tokenizer } = await import(pathToFileURL(resolve(lib)).href);
const tj = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
const tc = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
const tok = new Tokenizer(tj, tc);
const texts = JSON.parse(readFileSync(inPath, "utf8"));
const ids = [];
const decoded = [];
for (const t of texts) {
  const e = tok.encode(t);
  ids.push(e.ids);
  decoded.push(tok.decode(e.ids, { skip_special_tokens: true }));
}
writeFileSync(outPath, JSON.stringify({ ids, decoded }));
