# Compares Hearth with llama.cpp (built outside the project; BIN below) on random-weight encoder
# files from random-gguf: token ids of every corpus line (llama-tokenize --ids --no-bos vs
# hearth tokenize) and embeddings (llama-embedding --embd-normalize 2, the model's pooling, vs
# Hearth's /api/embed on a running `hearth serve` that has the same files as models).
#   CORPUS=corpus.json python3 scripts/llamacpp-embed-compare.py tokens a.gguf b.gguf
#   python3 scripts/llamacpp-embed-compare.py embeds PORT a.gguf=model-a b.gguf=model-b
# CORPUS: a JSON list of texts, or {"texts": [...]} (default: the WordPiece golden corpus). Paths of the llama.cpp build and of hearth: BIN, HEARTH.
import json, os, subprocess, sys, urllib.request
BIN = os.environ.get("LLAMA_BIN", "/work/ext/llama.cpp/build/bin")
HEARTH = os.environ.get("HEARTH", "build/hearth")
env = dict(os.environ, LD_LIBRARY_PATH=BIN)
corpus = json.load(open(os.environ.get("CORPUS", "tests/tokenizer/goldens/wpm_corpus.json")))
if isinstance(corpus, dict): corpus = corpus["texts"]

def llama_ids(model, text, special):
    args = [BIN + "/llama-tokenize", "-m", model, "-p", text, "--ids", "--log-disable"]
    if not special: args.append("--no-bos")
    out = subprocess.run(args, capture_output=True, text=True, env=env)
    line = [l for l in out.stdout.splitlines() if l.startswith("[")]
    return json.loads(line[-1]) if line else ("ERR", out.stderr[-300:])

def hearth_ids(model, text):
    out = subprocess.run([HEARTH, "tokenize", model], input=text.encode(), capture_output=True)
    s = out.stdout.decode().strip()
    return [int(x) for x in s.split()] if s else []

def tokens(model):
    bad = 0
    for t in corpus:
        a, b = llama_ids(model, t, False), hearth_ids(model, t)
        if a != b:
            bad += 1
            print("MISMATCH", repr(t), "\n  llama ", a, "\n  hearth", b)
    print(f"{model}: tokenizer {len(corpus) - bad}/{len(corpus)} lines identical")
    return bad

def llama_embed(model, text):
    args = [BIN + "/llama-embedding", "-m", model, "-p", text, "--embd-normalize", "2",
            "--embd-output-format", "json", "-c", "512", "-b", "512", "-ub", "512", "-t", "2"]
    args += ["--embd-separator", "<#SEP#>"]  # the default "\n" would split multi-line texts
    for attempt in range(4):  # llama's logger thread sometimes exits before printing it all
        out = subprocess.run(args, capture_output=True, text=True, env=env)
        try:
            j = json.loads(out.stdout[out.stdout.index("{"):])
            return j["data"][0]["embedding"]
        except Exception:
            pass
    return ("ERR", out.stdout[-300:], out.stderr[-300:])

def hearth_embed(port, name, texts):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/embed",
        data=json.dumps({"model": name, "input": texts}).encode(), headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["embeddings"]

def embeds(model, port, name):
    texts = [t for t in corpus if t.strip()]
    ours = hearth_embed(port, name, texts)
    worst = 0.0
    for t, h in zip(texts, ours):
        l = llama_embed(model, t)
        if isinstance(l, tuple):
            print("llama-embedding failed on", repr(t), l); continue
        d = max(abs(x - y) for x, y in zip(l, h))
        if d > 1e-3: print("  large diff", d, repr(t))
        worst = max(worst, d)
    print(f"{model}: embeddings of {len(texts)} lines, max abs diff {worst:.3g} (unit vectors of {len(ours[0])})")

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "tokens":
        for m in sys.argv[2:]: tokens(m)
    else:
        port = sys.argv[2]
        for pair in sys.argv[3:]:
            m, name = pair.split("=")
            embeds(m, port, name)
