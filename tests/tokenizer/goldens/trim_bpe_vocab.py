# Cuts a byte-level BPE tokenizer.json down to what encoding one fixed corpus needs, keeping
# every token's id, so that a small file committed with the tests encodes that corpus exactly
# as the full vocabulary does.
#
# Why it is exact: byte-level BPE merges only inside a pre-tokenized word, and a word's final
# tokens are never merged with each other (else they would not be final), so every merge applied
# to the word is one of the merges that build one of its output tokens from that token's own
# bytes, in the order BPE on that token alone applies them (the pairs inside a token's span see
# the same lowest-rank choices with or without the rest of the word). The encoder applies, at
# each step, the lowest-rank merge present; so any set of merges between those and the full list
# (rank order unchanged) gives the same result: a merge that is dropped was never the
# lowest-rank candidate present. Whole-word lookups (ignore_merges) only ever find output
# tokens, which are kept. The 256 byte tokens and all added tokens stay (the loader wants the
# newline byte, and added USER_DEFINED tokens split text even when specials are not parsed).
#
# What it costs a test, and the remedy: a pre-tokenizer that wrongly joins two pieces goes
# unseen if no kept merge spans the join (a digit-grouping bug, when the right split never
# yields a multi-digit token). So the merges that BPE applies to each whole text, with no
# pre-tokenization at all, are kept too: any merge the corpus can bring together across a
# wrong boundary is then there to expose it, and by the argument above they change no id.
# make_bpe_llamacpp_goldens.py checks the claim with llama.cpp on both files.
import json


def _merge_pair(m):
    return tuple(m.split(" ", 1)) if isinstance(m, str) else (m[0], m[1])


def _bpe_merges(token, ranks):
    """The merges BPE applies to `token`'s characters alone, lowest rank first, leftmost on ties."""
    symbols = list(token)
    used = []
    while len(symbols) > 1:
        best = None
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        r, i = best
        used.append(r)
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
    return used


def _byte_chars():
    """GPT-2's byte-level alphabet: byte b as the character byte-level BPE vocabularies use."""
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def trim(doc, used_ids, texts):
    """A tokenizer.json-shaped dict holding what encoding `texts` to `used_ids` needs, plus the
    merges BPE applies to each whole text (see above)."""
    model = doc["model"]
    if model.get("type") != "BPE":
        raise ValueError("not a BPE tokenizer.json")
    merges = model["merges"]
    ranks = {_merge_pair(m): r for r, m in enumerate(merges)}
    id_to_text = {i: t for t, i in model["vocab"].items()}
    added_ids = {t["id"] for t in doc["added_tokens"]}

    keep_ranks = set()
    for i in set(used_ids):
        if i in added_ids:
            continue
        if i not in id_to_text:
            raise ValueError("id %d is in no vocabulary entry" % i)
        keep_ranks.update(_bpe_merges(id_to_text[i], ranks))
    byte_chars = _byte_chars()
    for t in texts:
        keep_ranks.update(_bpe_merges("".join(byte_chars[b] for b in t.encode("utf-8")), ranks))

    keep_texts = {id_to_text[i] for i in used_ids if i in id_to_text}
    for r in keep_ranks:
        a, b = _merge_pair(merges[r])
        keep_texts.update((a, b, a + b))
    # The byte alphabet: every single-character entry of a byte-level vocabulary.
    keep_texts.update(t for t in model["vocab"] if len(t) == 1)
    missing = [t for t in keep_texts if t not in model["vocab"]]
    if missing:
        raise ValueError("merge parts or results missing from the vocabulary: %r" % missing[:5])

    return {
        "model": {
            "type": "BPE",
            "vocab": {t: i for t, i in sorted(model["vocab"].items(), key=lambda e: e[1]) if t in keep_texts},
            "merges": [merges[r] for r in sorted(keep_ranks)],
        },
        "added_tokens": [{"id": t["id"], "content": t["content"], "special": t["special"]}
                         for t in doc["added_tokens"]],
    }


def write(path, trimmed, about):
    """One entry per line, so a regenerated file diffs readably."""
    model = trimmed["model"]
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"about": %s,\n "model": {"type": "BPE",\n  "vocab": {\n' % json.dumps(about))
        f.write(",\n".join("   %s: %d" % (json.dumps(t, ensure_ascii=False), i) for t, i in model["vocab"].items()))
        f.write('\n  },\n  "merges": [\n')
        f.write(",\n".join("   " + json.dumps(m, ensure_ascii=False) for m in model["merges"]))
        f.write('\n  ]},\n "added_tokens": [\n')
        f.write(",\n".join("  " + json.dumps(t, ensure_ascii=False) for t in trimmed["added_tokens"]))
        f.write("\n]}\n")
