// referee.mjs MODULE TOKENIZER_JSON [TOKENIZER_CONFIG_JSON]
//
// With REFEREE_VOCAB=N in the environment it instead writes two lines: a
// JSON array of id_to_token(id) for every id below N (null where there is
// none), then one of decode([id]) for each id that has a token.
//
// Reads JSONL from stdin, one {"text": "..."} per line, and writes one line
// per input with what Hugging Face's JavaScript tokenizers
// (@huggingface/tokenizers, at MODULE) make of it:
//   {"ids": [...],            encode(text), special tokens added
//    "plain": [...],          encode(text, {add_special_tokens: false})
//    "decoded": "...",        decode(ids, {skip_special_tokens: true})
//    "decoded_special": "..."} decode(ids)
// A line {"ids": [...]} gets only the two decodings of those ids.
// package tokenizer's tests compare painterc's tokenizer with these.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { createInterface } from "node:readline";

const [modulePath, jsonPath, configPath] = process.argv.slice(2);
const { Tokenizer } = await import(pathToFileURL(modulePath).href);
const tokenizerJson = JSON.parse(readFileSync(jsonPath, "utf8"));
const config = configPath ? JSON.parse(readFileSync(configPath, "utf8")) : {};
// transformers no longer cleans up spaces unless the config asks.
config.clean_up_tokenization_spaces ??= false;
const tok = new Tokenizer(tokenizerJson, config);

if (process.env.REFEREE_VOCAB) {
  const n = Number(process.env.REFEREE_VOCAB);
  const vocab = [];
  const decoded = [];
  for (let id = 0; id < n; id++) {
    const t = tok.id_to_token(id);
    vocab.push(t ?? null);
    decoded.push(t === undefined ? null : tok.decode([id]));
  }
  // Exit only once the (large) lines are flushed to the pipe.
  process.stdout.write(JSON.stringify(vocab) + "\n" + JSON.stringify(decoded) + "\n", () => process.exit(0));
  await new Promise(() => {});
}

const decode = (ids, skip) =>
  ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: skip });

const out = [];
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (line === "") continue;
  const { text, ids: given } = JSON.parse(line);
  if (given !== undefined) {
    // {"ids": [...]} lines: only the two decodings.
    out.push(JSON.stringify({ decoded: decode(given, true), decoded_special: decode(given, false) }));
    continue;
  }
  const ids = tok.encode(text).ids;
  const plain = tok.encode(text, { add_special_tokens: false }).ids;
  out.push(JSON.stringify({
    ids,
    plain,
    decoded: decode(ids, true),
    decoded_special: decode(ids, false),
  }));
}
process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
