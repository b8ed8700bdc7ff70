# WordPiece goldens from llama.cpp (built outside the project): the ids llama-tokenize gives
# (--ids --no-bos: no [CLS]/[SEP]) for every text of wpm_corpus.json, on the made-up WordPiece
# vocabulary of random-gguf (tools/random_gguf_encoder.h, 30522 tokens), which
# wpm_golden_test.cc builds again in-process.
#
#   build/tools/random-gguf --arch bert --n-embd 64 --n-layer 1 --n-head 4 --n-head-kv 4 \
#       --n-ff 64 --n-ctx 64 --type f32 -o /tmp/wpm-vocab.gguf
#   LD_LIBRARY_PATH=$LLAMA/build/bin python3 tests/tokenizer/goldens/make_wpm_goldens.py \
#       $LLAMA/build/bin/llama-tokenize /tmp/wpm-vocab.gguf
import json, subprocess, sys, os

tool, model = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
texts = json.load(open(os.path.join(here, "wpm_corpus.json")))["texts"]
cases = []
for t in texts:
    out = subprocess.run([tool, "-m", model, "-p", t, "--ids", "--no-bos", "--log-disable"],
                         capture_output=True, text=True, check=True)
    ids = json.loads([l for l in out.stdout.splitlines() if l.startswith("[")][-1])
    cases.append({"text": t, "ids": ids})
version = subprocess.run([tool, "--version"], capture_output=True, text=True).stderr.strip().splitlines()
about = "llama-tokenize --ids --no-bos on random-gguf's WordPiece vocabulary; " + (version[0] if version else "")
with open(os.path.join(here, "wpm_llamacpp.json"), "w") as f:  # one case a line
    f.write('{"about": ' + json.dumps(about) + ',\n "cases": [\n')
    f.write(",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases))
    f.write("\n]}\n")
print(len(cases), "cases")
