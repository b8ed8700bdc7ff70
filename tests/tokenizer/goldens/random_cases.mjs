// Seeded random strings over characters at the classes' edges, for combinations the corpus
// misses; shared by make_goldens.mjs and make_pretokenizer_goldens.mjs. U+0085 and U+FEFF stay
// out: JavaScript's \s differs from Unicode White_Space (which the Rust tokenizers and llama.cpp
// use, and Hearth follows) on exactly those two.
const atoms = [' ', '  ', '\t', '\n', '\r', '\r\n', '\u00a0', '\u3000', '\u2028', 'a', 'Z', 'xyz', '\u00e9',
               '\u0301', '\u0345', '7', '42', '1234', '\u0663', '\u00bd', '\u216b', "'", "'s", "'LL", "'re",
               '.', ',', '!?', '$', '\u20ac', '(', '-', '_', '\u{1F600}', '\u200d', '\ufe0f', '\u4e2d', '\u304b',
               '\u30ab', '\ud55c', '\u01c5', '\u02b0', '\uff08', '\uff01', '\u2018', '\u3002', '\u00b5',
               '\u212a', '\u0800', '\u{10400}', '\u05d0', '\u0915\u093f'];
let seed = 12345;
const rand = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
export function randomCases(count, seedValue) {
  seed = seedValue;
  const cases = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    const len = 1 + rand(24);
    for (let k = 0; k < len; k++) s += atoms[rand(atoms.length)];
    cases.push({ name: `random_${i}`, text: s });
  }
  return cases;
}

