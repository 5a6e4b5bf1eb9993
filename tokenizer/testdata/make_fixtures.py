#!/usr/bin/env python3
"""Writes the two tiny hand-made tokenizers the referee tests use:
bert/ (WordPiece, BertNormalizer, BertPreTokenizer, BertProcessing) and
unigram/ (Unigram, NFKC + regex Replace, Metaspace). Run it from this
directory; the output is deterministic."""
import json, math

words = ("the quick brown fox jump over lazy dog hello world token izer un able do not can ' t "
         "won line one two three end tab separated values leading trailing spaces code return "
         "def func main print select from where if else for in range is it ' s you ll see they ve "
         "gone we d said john sure i m shout fine family flag nbsp zero width joiner space").split()
subs = "s ing ed er est ly tion able ize izer ment ness ful less en ic al ous ive re un".split()
chars = [chr(c) for c in range(ord('a'), ord('z') + 1)] + [str(d) for d in range(10)]
punct = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
cjk = list("你好世界中文日本語的")

def write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")

# ---- bert ----
vocab = {}
def add(t):
    if t not in vocab:
        vocab[t] = len(vocab)
for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]:
    add(t)
for t in chars + punct + cjk:
    add(t)
for t in chars:
    add("##" + t)
for w in words:
    add(w)
for s in subs:
    add("##" + s)
for w in ["##llo", "##rld", "##ize", "##ck", "##own", "##mp", "##zy"]:
    add(w)
add("painterc")
bert = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [
        {"id": vocab[t], "content": t, "single_word": False, "lstrip": t == "[MASK]", "rstrip": False,
         "normalized": False, "special": True}
        for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    # A normalized, non-special added token. Not single_word: the JavaScript
    # referee ignores single_word, which TestTiny checks instead.
    ] + [{"id": vocab["painterc"], "content": "PainterC", "single_word": False, "lstrip": False,
          "rstrip": False, "normalized": True, "special": False}],
    "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                   "strip_accents": None, "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", vocab["[SEP]"]], "cls": ["[CLS]", vocab["[CLS]"]]},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100, "vocab": vocab},
}
write("bert/tokenizer.json", bert)
write("bert/tokenizer_config.json", {"tokenizer_class": "BertTokenizer", "do_lower_case": True,
      "cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]", "pad_token": "[PAD]",
      "mask_token": "[MASK]", "clean_up_tokenization_spaces": True})

# ---- unigram ----
pieces = [("<unk>", 0.0), ("<s>", 0.0), ("</s>", 0.0), ("<pad>", 0.0)]
seen = set(p for p, _ in pieces)
def piece(p, score):
    if p not in seen:
        seen.add(p)
        pieces.append((p, score))
piece("\u2581", -2.0)
# Whole words, with and without the word-start mark, score by length so the
# lattice has real choices; then pieces and single characters.
for i, w in enumerate(words):
    piece("\u2581" + w, -3.0 - 0.01 * i - 0.5 / len(w))
    piece(w, -5.0 - 0.01 * i)
for i, s in enumerate(subs):
    piece(s, -4.0 - 0.013 * i)
    piece("\u2581" + s, -6.0 - 0.017 * i)
for i, c in enumerate(chars + punct + cjk + list("éñüßΩжשم")):
    piece(c, -8.0 - 0.003 * i)
    piece("\u2581" + c, -9.0 - 0.007 * i)
for i, w in enumerate(["\u2581he", "ll", "llo", "\u2581wor", "ld", "\u2581tok", "en", "iz", "er", "\u2581qu", "ick"]):
    piece(w, -4.5 - 0.011 * i)
uni = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [
        {"id": i, "content": p, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, (p, _) in enumerate(pieces[:4])
    ],
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "NFKC"},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
    ]},
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                       "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                                {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                       "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
    "model": {"type": "Unigram", "unk_id": 0, "vocab": [[p, s] for p, s in pieces], "byte_fallback": False},
}
write("unigram/tokenizer.json", uni)
write("unigram/tokenizer_config.json", {"tokenizer_class": "T5Tokenizer", "eos_token": "</s>",
      "unk_token": "<unk>", "pad_token": "<pad>", "clean_up_tokenization_spaces": False})
