# Writes pretokenizer_llamacpp.json for pre_tokenizer_golden_test.cc: how llama.cpp itself splits
# every case of pretokenizer.json (the corpus and the seeded random strings) for each
# tokenizer.ggml.pre group, from llama.cpp's unicode_regex_split (libllama, built outside the
# project) called by llamacpp_split.cc. The regex lists are the ones llama.cpp's
# src/llama-vocab.cpp gives each group (llm_tokenizer_bpe), written here as data; llama.cpp runs
# some through hand-written splitters and the rest through std::regex over text where each
# non-ASCII code point is replaced by a placeholder for its class, and it is that behaviour,
# not the tokenizer.json regexes', that these goldens hold.
#
#   LLAMA=/work/ext/llama.cpp
#   g++ -std=c++17 -O1 tests/tokenizer/goldens/llamacpp_split.cc -L$LLAMA/build/bin -lllama \
#       -Wl,-rpath,$LLAMA/build/bin -o /tmp/llamacpp-split
#   LLAMA=$LLAMA python3 tests/tokenizer/goldens/make_llamacpp_split_goldens.py /tmp/llamacpp-split
import json, os, subprocess, sys

tool = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))

GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
CONTR = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
PRES = {
    "gpt-2": [GPT2],
    "llama-bpe": [CONTR + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"],
    "qwen2": [CONTR + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"],
    "deepseek-v3": [
        "\\p{N}{1,3}",
        "[一-龥぀-ゟ゠-ヿ]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    ],
    "deepseek-coder": ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"],
    "starcoder": ["\\p{N}", GPT2],
    "tekken": [
        "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
    "gpt-4o": [
        "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" + CONTR + "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTR + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    ],
}



def regexes_in_llamacpp(case):
    """The string literals of one case of llm_tokenizer_bpe in llama.cpp's src/llama-vocab.cpp
    (DeepSeek LLM's letter class is too long to copy here by hand)."""
    src = open(os.path.join(os.environ.get("LLAMA", "/work/ext/llama.cpp"), "src/llama-vocab.cpp"), encoding="utf-8").read()
    body = src[src.index("case LLAMA_VOCAB_PRE_TYPE_%s:" % case):]
    body = body[body.index("regex_exprs = {"):body.index("};")]
    out = []
    for line in body.split("\n"):
        line = line.strip()
        if line.startswith('"') and line.endswith('",'):
            out.append(line[1:-2].encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8"))
    return out


PRES["deepseek-llm"] = regexes_in_llamacpp("DEEPSEEK_LLM")
assert len(PRES["deepseek-llm"]) == 6, PRES["deepseek-llm"]
cases = json.load(open(os.path.join(here, "pretokenizer.json")))["cases"]
stdin = "".join(c["input_hex"] + "\n" for c in cases)
lengths = {}
for name, regexes in PRES.items():
    out = subprocess.run([tool, *regexes], input=stdin, capture_output=True, text=True, check=True).stdout
    lines = out.split("\n")[: len(cases)]
    lengths[name] = [[int(x) for x in l.split()] for l in lines]
with open(os.path.join(here, "pretokenizer_llamacpp.json"), "w") as f:
    f.write('{"about": "piece byte lengths from llama.cpp unicode_regex_split (make_llamacpp_split_goldens.py)",\n "cases": [\n')
    rows = []
    for i, c in enumerate(cases):
        rows.append("  " + json.dumps({"name": c["name"], "input_hex": c["input_hex"],
                                       "lengths": {n: lengths[n][i] for n in PRES}}))
    f.write(",\n".join(rows) + "\n]}\n")
print(len(cases), "cases x", len(PRES), "pre-tokenizers")
