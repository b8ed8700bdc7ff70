// Writes pretokenizer.json for pre_tokenizer_golden_test.cc: how each pre-tokenizer splits every
// corpus.json case, computed by V8's own regex engine from the split regexes as the vocabularies'
// tokenizer.json files write them (Split, behaviour "Isolated": matches and the stretches between
// them are pieces; several regexes apply one after another to each piece). This checks Hearth's
// hand-written matchers independently, including GPT-2 and DeepSeek LLM, whose vocabularies we
// do not have. Ill-formed cases are split as TextDecoder decodes them (see make_goldens.mjs).
//
// Run from the repository root (no packages needed):
//   node tests/tokenizer/goldens/make_pretokenizer_goldens.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomCases } from './random_cases.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = JSON.parse(readFileSync(join(here, 'corpus.json'), 'utf8'));

// JavaScript has no (?i:...) group: the contractions are spelled case-insensitively by hand, as
// transformers.js does.
const contractionsI = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const tail = ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
const pres = {
  'gpt-2': ["'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"],
  'llama-bpe': [`${contractionsI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|${tail}`],
  'qwen2': [`${contractionsI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|${tail}`],
  'deepseek-v3': [
    '\\p{N}{1,3}',
    '[一-龥぀-ゟ゠-ヿ]+',
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ],
  'deepseek-llm': [
    '[\\r\\n]',
    // The class as DeepSeek LLM's tokenizer.json lists it (code points written as escapes).
    '\\s?[A-Za-z\\u{B5}\\u{C0}-\\u{D6}\\u{D8}-\\u{F6}\\u{F8}-\\u{1BA}\\u{1BC}-\\u{1BF}\\u{1C4}-\\u{293}\\u{295}-\\u{2AF}\\u{370}-\\u{373}\\u{376}\\u{377}\\u{37B}-\\u{37D}\\u{37F}\\u{386}\\u{388}-\\u{38A}\\u{38C}\\u{38E}-\\u{3A1}\\u{3A3}-\\u{3F5}\\u{3F7}-\\u{481}\\u{48A}-\\u{52F}\\u{531}-\\u{556}\\u{10A0}-\\u{10C5}\\u{13A0}-\\u{13F5}\\u{13F8}-\\u{13FD}\\u{1C90}-\\u{1CBA}\\u{1CBD}-\\u{1CBF}\\u{1D00}-\\u{1D2B}\\u{1D6B}-\\u{1D77}\\u{1D79}-\\u{1D9A}\\u{1E00}-\\u{1F15}\\u{1F18}-\\u{1F1D}\\u{1F20}-\\u{1F45}\\u{1F48}-\\u{1F4D}\\u{1F50}-\\u{1F57}\\u{1F59}\\u{1F5B}\\u{1F5D}\\u{1F5F}-\\u{1F7D}\\u{1F80}-\\u{1FB4}\\u{1FB6}-\\u{1FBC}\\u{1FBE}\\u{1FC2}-\\u{1FC4}\\u{1FC6}-\\u{1FCC}\\u{1FD0}-\\u{1FD3}\\u{1FD6}-\\u{1FDB}\\u{1FE0}-\\u{1FEC}\\u{1FF2}-\\u{1FF4}\\u{1FF6}-\\u{1FFC}\\u{2102}\\u{2107}\\u{210A}-\\u{2113}\\u{2115}\\u{2119}-\\u{211D}\\u{2124}\\u{2126}\\u{2128}\\u{212A}-\\u{212D}\\u{212F}-\\u{2134}\\u{2139}\\u{213C}-\\u{213F}\\u{2145}-\\u{2149}\\u{214E}\\u{2183}\\u{2184}\\u{2C00}-\\u{2C7B}\\u{2C7E}-\\u{2CE4}\\u{2CEB}-\\u{2CEE}\\u{2CF2}\\u{2CF3}\\u{A640}-\\u{A66D}\\u{A680}-\\u{A69B}\\u{A722}-\\u{A76F}\\u{A771}-\\u{A787}\\u{A78B}-\\u{A78E}\\u{AB70}-\\u{ABBF}\\u{FB00}-\\u{FB06}\\u{FB13}-\\u{FB17}\\u{FF21}-\\u{FF3A}\\u{FF41}-\\u{FF5A}\\u{10400}-\\u{1044F}\\u{104B0}-\\u{104D3}\\u{104D8}-\\u{104FB}\\u{10C80}-\\u{10CB2}\\u{10CC0}-\\u{10CF2}\\u{118A0}-\\u{118DF}\\u{1E900}-\\u{1E943}]+',
    // llama.cpp matches the next two over text whose non-ASCII spaces it has replaced, so no
    // space (U+3000, U+2028, ...) ever falls in these classes; Hearth follows llama.cpp.
    '\\s?(?:(?!\\p{White_Space})[!-/:-~！-／：-～‘-‟　-。])+',
    '\\s+$',
    '(?:(?!\\p{White_Space})[一-龥ࠀ-一가-퟿])+',
    '\\p{N}+',
  ],
};

// Where the shared test data is at hand, the Qwen and DeepSeek-V3 regexes above must be the ones
// in their tokenizer.json files.
function splitRegexes(file) {
  return JSON.parse(readFileSync(file, 'utf8')).pre_tokenizer.pretokenizers
    .filter((p) => p.type === 'Split')
    .map((p) => p.pattern.Regex.replaceAll('\r', '\\r').replaceAll('\n', '\\n'));  // same class either way
}
const testdata = join(here, '../../../../shared/testdata/tokenizers');
try {
  const qwen = splitRegexes(join(testdata, 'qwen3/tokenizer.json'))
    .map((r) => r.replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", contractionsI));
  const dsv3 = splitRegexes(join(testdata, 'deepseek_v3/tokenizer.json'));
  if (JSON.stringify(qwen) !== JSON.stringify(pres.qwen2)) throw new Error('qwen2 regex differs from tokenizer.json');
  if (JSON.stringify(dsv3) !== JSON.stringify(pres['deepseek-v3'])) throw new Error('deepseek-v3 regexes differ from tokenizer.json');
  console.log('qwen2 and deepseek-v3 regexes checked against tokenizer.json');
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
}

function splitIsolated(pieces, source) {
  const re = new RegExp(source, 'gu');
  const out = [];
  for (const p of pieces) {
    let last = 0;
    for (const m of p.matchAll(re)) {
      if (m[0].length === 0) continue;
      if (m.index > last) out.push(p.slice(last, m.index));
      out.push(m[0]);
      last = m.index + m[0].length;
    }
    if (last < p.length) out.push(p.slice(last));
  }
  return out;
}

const randomStrings = randomCases(400, 12345);

const header = { generator: 'tests/tokenizer/goldens/make_pretokenizer_goldens.mjs',
                 reference: `V8 regex (Node ${process.version}, Unicode ${process.versions.unicode})`,
                 note: 'lengths: the UTF-8 byte length of each piece, per pre-tokenizer' };
const lines = [JSON.stringify(header).slice(0, -1) + ', "cases": ['];
const all = [...corpus.cases, ...randomStrings].filter((c) => !c.parse_special && !c.vocab);
all.forEach((c, i) => {
  const text = c.hex !== undefined ? new TextDecoder().decode(Buffer.from(c.hex, 'hex')) : c.text;
  const lengths = {};
  for (const [name, regexes] of Object.entries(pres)) {
    let pieces = text.length ? [text] : [];
    for (const r of regexes) pieces = splitIsolated(pieces, r);
    if (pieces.join('') !== text) throw new Error(`${name} ${c.name}: pieces do not cover the text`);
    lengths[name] = pieces.map((p) => Buffer.byteLength(p, 'utf8'));
  }
  const entry = { name: c.name, input_hex: Buffer.from(text, 'utf8').toString('hex'), lengths };
  lines.push(' ' + JSON.stringify(entry) + (i + 1 < all.length ? ',' : ''));
});
lines.push(']}');
const json = lines.join('\n');
writeFileSync(join(here, 'pretokenizer.json'), json + '\n');
console.log(`${all.length} cases x ${Object.keys(pres).length} pre-tokenizers`);
