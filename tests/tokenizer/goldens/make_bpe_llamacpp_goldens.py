# Byte-level BPE goldens from llama.cpp (built outside the project) for a vocabulary we hold as a
# Hugging Face tokenizer.json: writes a vocabulary-only GGUF the way llama.cpp's converter lays
# one out (ids in order, gaps as UNUSED [PADn], added special tokens CONTROL, other added tokens
# USER_DEFINED, merges as "a b"), runs llama-tokenize (--ids --no-bos: no specials) on every
# plain-text case of corpus.json and of llama.cpp's standard vocab test inputs
# (tokenizer-vectors/ggml-vocab-llama-bpe.gguf.inp), and writes <name>_llamacpp.json.
# bpe_golden_test.cc builds the same GGUF with the project's writer (bpe_vocab_fixture.cc).
#
#   LD_LIBRARY_PATH=$LLAMA/build/bin python3 tests/tokenizer/goldens/make_bpe_llamacpp_goldens.py \
#       $LLAMA/build/bin/llama-tokenize gpt4o gpt-4o $TESTDATA/tokenizers/gpt4o/tokenizer.json $TESTDATA
import json, os, subprocess, sys

import gguf_min

here = os.path.dirname(os.path.abspath(__file__))
tool, name, pre, tokenizer_json, testdata = sys.argv[1:6]


def gguf_from_tokenizer_json(path, out):
    d = json.load(open(path, encoding="utf-8"))
    vocab = dict(d["model"]["vocab"])
    types = {}
    for t in d["added_tokens"]:
        vocab[t["content"]] = t["id"]
        types[t["id"]] = 3 if t["special"] else 4
    n = max(vocab.values()) + 1
    tokens = ["[PAD%d]" % i for i in range(n)]
    toktypes = [5] * n
    for text, i in vocab.items():
        tokens[i] = text
        toktypes[i] = types.get(i, 1)
    merges = [m if isinstance(m, str) else " ".join(m) for m in d["model"]["merges"]]

    g = gguf_min
    g.write(out, g.arch_keys("llama") + [
        ("llama.attention.layer_norm_rms_epsilon", g.F32, 1e-5),
        ("tokenizer.ggml.model", g.STRING, "gpt2"),
        ("tokenizer.ggml.pre", g.STRING, pre),
        ("tokenizer.ggml.tokens", (g.ARRAY, g.STRING), tokens),
        ("tokenizer.ggml.token_type", (g.ARRAY, g.I32), toktypes),
        ("tokenizer.ggml.merges", (g.ARRAY, g.STRING), merges)])


gguf = "/tmp/%s-vocab.gguf" % name
gguf_from_tokenizer_json(tokenizer_json, gguf)
texts = [c["text"] for c in json.load(open(os.path.join(here, "corpus.json")))["cases"]
         if "text" in c and not c.get("parse_special") and not c.get("vocab") and c["text"]]
inp = open(os.path.join(testdata, "tokenizer-vectors/ggml-vocab-llama-bpe.gguf.inp"), encoding="utf-8").read()
texts += [t for t in inp.split("\n__ggml_vocab_test__\n")[:-1] if t and t not in texts]
cases = []
for t in texts:
    r = subprocess.run([tool, "-m", gguf, "-p", t, "--ids", "--no-bos", "--log-disable"],
                       capture_output=True, text=True, check=True)
    cases.append({"text": t, "ids": json.loads([l for l in r.stdout.splitlines() if l.startswith("[")][-1])})
about = "llama-tokenize --ids --no-bos, pre %s, on %s (make_bpe_llamacpp_goldens.py)" % (pre, os.path.basename(os.path.dirname(tokenizer_json)))
with open(os.path.join(here, name + "_llamacpp.json"), "w") as f:
    f.write('{"about": ' + json.dumps(about) + ', "pre": ' + json.dumps(pre) + ',\n "cases": [\n')
    f.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
    f.write("\n]}\n")
print(len(cases), "cases")
