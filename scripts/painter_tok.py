"""A small BPE tokenizer, trained here and saved as a Hugging Face tokenizer.json.

Components, all standard: no normalizer; Metaspace pre-tokenizer
(replacement "▁", prepend_scheme "always", split true); BPE model without
byte fallback; <unk> for unseen characters; Metaspace decoder; a
TemplateProcessing post-processor that puts <s> first, as Llama does.
Digits are never merged with each other, so every token holds at most one
digit ("▁7" is a token, "47" never is).
"""

import collections
import json

SPACE = "\u2581"
SPECIAL = ["<unk>", "<s>", "</s>"]
UNK, BOS, EOS = 0, 1, 2


def pre_tokenize(text):
    """Metaspace(prepend_scheme=always, split=true), as in HF tokenizers."""
    s = text.replace(" ", SPACE)
    if not s.startswith(SPACE):
        s = SPACE + s
    pieces, cur = [], ""
    for ch in s:
        if ch == SPACE and cur:
            pieces.append(cur)
            cur = ""
        cur += ch
    if cur:
        pieces.append(cur)
    return pieces


def _mergeable(a, b):
    # Digits are never merged with each other; a leading "▁" may join one digit.
    if a == SPACE and len(b) == 1 and b.isdigit():
        return True
    return not any(c.isdigit() for c in a + b)


def train(texts, vocab_size):
    words = collections.Counter()
    for t in texts:
        words.update(pre_tokenize(t))
    alphabet = sorted({c for w in words for c in w})
    vocab = list(SPECIAL) + alphabet
    merges = []
    seqs = {w: list(w) for w in words}
    while len(vocab) < vocab_size:
        pairs = collections.Counter()
        for w, n in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                if _mergeable(a, b):
                    pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), n = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if n < 2:
            break
        merges.append((a, b))
        vocab.append(a + b)
        for w in seqs:
            s = seqs[w]
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return Tokenizer(vocab, merges)


class Tokenizer:
    def __init__(self, vocab, merges):
        self.vocab = list(vocab)
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.merges = [tuple(m) for m in merges]
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.cache = {}

    def _bpe(self, piece):
        if piece in self.cache:
            return self.cache[piece]
        s = list(piece)
        while len(s) > 1:
            best, bi = None, -1
            for i in range(len(s) - 1):
                r = self.ranks.get((s[i], s[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            s = s[:bi] + [s[bi] + s[bi + 1]] + s[bi + 2:]
        ids = [self.ids.get(t, UNK) for t in s]
        self.cache[piece] = ids
        return ids

    def encode(self, text, add_bos=True):
        ids = [BOS] if add_bos else []
        for p in pre_tokenize(text):
            ids += self._bpe(p)
        return ids

    def decode(self, ids):
        s = "".join(self.vocab[i] for i in ids if i not in (UNK, BOS, EOS))
        s = s.replace(SPACE, " ")
        return s[1:] if s.startswith(" ") else s

    def to_json(self):
        meta = {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "always", "split": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True}
                for i, t in enumerate(SPECIAL)
            ],
            "normalizer": None,
            "pre_tokenizer": meta,
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                         {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "<s>", "type_id": 1}},
                         {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS], "tokens": ["<s>"]}},
            },
            "decoder": dict(meta),
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": "<unk>",
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": {t: i for i, t in enumerate(self.vocab)},
                "merges": [a + " " + b for a, b in self.merges],
            },
        }

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False, indent=1)

    @staticmethod
    def load(path):
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        m = j["model"]
        vocab = [None] * len(m["vocab"])
        for t, i in m["vocab"].items():
            vocab[i] = t
        merges = [tuple(x.split(" ")) if isinstance(x, str) else tuple(x) for x in m["merges"]]
        return Tokenizer(vocab, merges)


def config_json():
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": None,
        "model_max_length": 128,
        "clean_up_tokenization_spaces": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
