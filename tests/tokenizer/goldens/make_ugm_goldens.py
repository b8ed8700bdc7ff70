# Unigram goldens from llama.cpp (built outside the project). From a SentencePiece Unigram model
# (a .model protobuf, e.g. one trained with Debian's `sentencepiece` tools as below) it writes
#   ugm_vocab.json     the vocabulary: pieces, scores, types, the precompiled charsmap (hex) and
#                      the normalizer's flags, which ugm_golden_test.cc turns into a GGUF with
#                      the project's own writer;
#   ugm_llamacpp.json  the ids llama.cpp's llama-tokenize (--ids --no-bos: no specials) gives for
#                      every text of ugm_corpus.json, for each normalizer setting in SETTINGS, on
#                      a vocabulary-only GGUF this script writes with the same contents.
#
# The fixture model (about 600 pieces, two user-defined symbols, and a normalization rule file
# with fullwidth forms, ligatures, circled digits, spaces, a composition and a mapping to
# nothing, so its charsmap is a real SentencePiece double array yet small):
#   python3 tests/tokenizer/goldens/make_ugm_goldens.py --train /tmp/ugm
#   LD_LIBRARY_PATH=$LLAMA/build/bin python3 tests/tokenizer/goldens/make_ugm_goldens.py \
#       /tmp/ugm/small.model $LLAMA/build/bin/llama-tokenize
import json, os, struct, subprocess, sys

import gguf_min

here = os.path.dirname(os.path.abspath(__file__))
SETTINGS = [  # (name, add_space_prefix, remove_extra_whitespaces)
    ("prefix_merge", True, True),
    ("prefix_keep_spaces", True, False),
    ("no_prefix_keep_spaces", False, False),
]


def train(workdir):
    os.makedirs(workdir, exist_ok=True)
    corpus = json.load(open(os.path.join(here, "corpus.json")))["cases"]
    lines = [l for c in corpus if "text" in c for l in c["text"].split("\n")]
    lines += json.load(open(os.path.join(here, "wpm_corpus.json")))["texts"]
    src = os.path.join(here, "../../../src")
    for dp, _, fn in os.walk(src):
        lines += [l for f in fn if f.endswith(".md") for l in open(os.path.join(dp, f)).read().split("\n")]
    with open(os.path.join(workdir, "train.txt"), "w") as f:
        f.write("\n".join(l for l in lines if l.strip()) + "\n")
    rules = [([cp], [cp - 0xFEE0]) for cp in range(0xFF01, 0xFF5F)]  # fullwidth ASCII
    rules += [([0xFB00], [0x66, 0x66]), ([0xFB01], [0x66, 0x69]), ([0xFB02], [0x66, 0x6C]),
              ([0xFB03], [0x66, 0x66, 0x69])]
    rules += [([0x2460 + i], [ord(c) for c in str(i + 1)]) for i in range(20)]  # circled digits
    rules += [([0xA0], [0x20]), ([0x3000], [0x20]), ([0x09], [0x20]), ([0x2002], [0x20]),
              ([0x65, 0x301], [0xE9]), ([0x61, 0x300], [0xE0]), ([0x2126], [0x3A9]),
              ([0x2122], [0x54, 0x4D]), ([0x2026], [0x2E, 0x2E, 0x2E]), ([0x210C], [0x48]),
              ([0x1D400], [0x41]), ([0xFF71], [0x30A2]), ([0x3231], [0x28, 0x682A, 0x29]),
              ([0x200B], [])]
    with open(os.path.join(workdir, "rules.tsv"), "w") as f:
        for s, t in rules:
            f.write(" ".join("%04X" % c for c in s) + "\t" + " ".join("%04X" % c for c in t) + "\n")
    subprocess.run(["spm_train", "--input=train.txt", "--model_prefix=small", "--vocab_size=600",
                    "--model_type=unigram", "--character_coverage=0.98", "--hard_vocab_limit=false",
                    "--user_defined_symbols=<mask>,[[hearth]]", "--normalization_rule_tsv=rules.tsv"],
                   cwd=workdir, check=True, capture_output=True)


def fields(buf):  # protobuf wire format: (field number, wire type, value)
    i = 0
    def varint():
        nonlocal i
        v = s = 0
        while True:
            b = buf[i]; i += 1
            v |= (b & 0x7F) << s; s += 7
            if b < 0x80: return v
    while i < len(buf):
        key = varint(); num, wt = key >> 3, key & 7
        if wt == 0: yield num, wt, varint()
        elif wt == 1: yield num, wt, buf[i:i + 8]; i += 8
        elif wt == 5: yield num, wt, buf[i:i + 4]; i += 4
        elif wt == 2:
            n = varint(); yield num, wt, buf[i:i + n]; i += n
        else: raise ValueError("wire type %d" % wt)


def read_model(path):
    tokens, scores, types = [], [], []
    norm = {"charsmap": b"", "add_dummy_prefix": True, "remove_extra_whitespaces": True}
    for num, _, v in fields(open(path, "rb").read()):
        if num == 1:  # ModelProto.pieces: piece = 1, score = 2, type = 3 (NORMAL when absent)
            piece, score, typ = "", 0.0, 1
            for n, _, x in fields(v):
                if n == 1: piece = x.decode("utf-8")
                elif n == 2: score = struct.unpack("<f", x)[0]
                elif n == 3: typ = x
            tokens.append(piece); scores.append(score); types.append(typ)
        elif num == 3:  # ModelProto.normalizer_spec
            for n, _, x in fields(v):
                if n == 2: norm["charsmap"] = bytes(x)
                elif n == 3: norm["add_dummy_prefix"] = bool(x)
                elif n == 4: norm["remove_extra_whitespaces"] = bool(x)
    return tokens, scores, types, norm


def write_gguf(path, vocab, add_prefix, merge_spaces):
    g = gguf_min
    g.write(path, g.arch_keys("bert") + [
        ("bert.attention.layer_norm_epsilon", g.F32, 1e-12),
        ("tokenizer.ggml.model", g.STRING, "t5"),
        ("tokenizer.ggml.pre", g.STRING, "default"),
        ("tokenizer.ggml.tokens", (g.ARRAY, g.STRING), vocab["tokens"]),
        ("tokenizer.ggml.scores", (g.ARRAY, g.F32), vocab["scores"]),
        ("tokenizer.ggml.token_type", (g.ARRAY, g.I32), vocab["types"]),
        ("tokenizer.ggml.add_space_prefix", g.BOOL, add_prefix),
        ("tokenizer.ggml.remove_extra_whitespaces", g.BOOL, merge_spaces),
        ("tokenizer.ggml.precompiled_charsmap", (g.ARRAY, g.U8), list(bytes.fromhex(vocab["charsmap_hex"]))),
        ("tokenizer.ggml.unknown_token_id", g.U32, 0),
        ("tokenizer.ggml.bos_token_id", g.U32, 1),
        ("tokenizer.ggml.eos_token_id", g.U32, 2),
        ("tokenizer.ggml.add_bos_token", g.BOOL, False),
        ("tokenizer.ggml.add_eos_token", g.BOOL, False)])


def main():
    if sys.argv[1] == "--train":
        return train(sys.argv[2])
    model, tool = sys.argv[1], sys.argv[2]
    tokens, scores, types, norm = read_model(model)
    vocab = {"about": "SentencePiece Unigram fixture (make_ugm_goldens.py): %d pieces" % len(tokens),
             "tokens": tokens, "scores": scores, "types": types,
             "add_space_prefix": norm["add_dummy_prefix"],
             "remove_extra_whitespaces": norm["remove_extra_whitespaces"],
             "charsmap_hex": norm["charsmap"].hex()}
    with open(os.path.join(here, "ugm_vocab.json"), "w") as f:
        f.write(json.dumps(vocab, ensure_ascii=False) + "\n")
    texts = json.load(open(os.path.join(here, "ugm_corpus.json")))["texts"]
    out = {"about": "llama-tokenize --ids --no-bos on ugm_vocab.json as a GGUF (make_ugm_goldens.py)",
           "settings": []}
    for name, add_prefix, merge in SETTINGS:
        path = "/tmp/ugm-%s.gguf" % name
        write_gguf(path, vocab, add_prefix, merge)
        cases = []
        for t in texts:
            r = subprocess.run([tool, "-m", path, "-p", t, "--ids", "--no-bos", "--log-disable"],
                               capture_output=True, text=True, check=True)
            cases.append(json.loads([l for l in r.stdout.splitlines() if l.startswith("[")][-1]))
        out["settings"].append({"name": name, "add_space_prefix": add_prefix,
                                "remove_extra_whitespaces": merge, "ids": cases})
    with open(os.path.join(here, "ugm_llamacpp.json"), "w") as f:
        f.write(json.dumps(out) + "\n")
    print(len(tokens), "pieces,", len(texts), "texts x", len(SETTINGS), "settings")


main()
