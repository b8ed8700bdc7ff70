// Code highlighting for the usual languages of chat answers: one pass of a tokenizer regex that
// knows comments, strings, numbers and keywords. It colours, it does not parse: a wrong colour on
// odd code costs nothing, while a real grammar per language would cost most of the page budget.

import { h } from './dom';

const KEYWORDS = new Set((
  'if else elif for while do switch case default break continue return function def class struct ' +
  'enum interface type const let var new delete try catch except finally raise throw throws import ' +
  'from export as in of is not and or async await yield lambda pass with package public private ' +
  'protected static void int long short char bool boolean float double unsigned signed auto ' +
  'namespace using template typename virtual override final fn pub mut impl trait use mod match ' +
  'loop where go func defer chan select map range nil null None True False true false this self ' +
  'super extends implements instanceof typeof echo then fi done esac local readonly SELECT FROM ' +
  'WHERE INSERT INTO UPDATE DELETE CREATE TABLE JOIN ON GROUP BY ORDER LIMIT AND OR NOT NULL'
).split(' '));

const HASH_COMMENT = new Set(['py', 'python', 'sh', 'bash', 'shell', 'zsh', 'rb', 'ruby', 'yaml', 'yml', 'toml', 'r', 'perl', 'dockerfile', 'makefile', 'cmake', 'ini', 'conf']);
const DASH_COMMENT = new Set(['sql', 'lua', 'haskell', 'hs']);

function tokenizer(lang: string): RegExp {
  const comment = HASH_COMMENT.has(lang) ? '#.*' : DASH_COMMENT.has(lang) ? '--.*' : '\\/\\/.*|\\/\\*[\\s\\S]*?(?:\\*\\/|$)|#.*';
  return new RegExp(
    `(${comment})|("(?:\\\\.|[^"\\\\\\n])*"?|'(?:\\\\.|[^'\\\\\\n])*'?|\`(?:\\\\.|[^\`\\\\])*\`?)` +
      `|(\\b(?:0x[0-9a-fA-F]+|\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)\\b)|([A-Za-z_][A-Za-z0-9_]*)`,
    'g');
}

export function highlight(code: string, lang: string): Node[] {
  const out: Node[] = [];
  const re = tokenizer(lang.toLowerCase());
  let last = 0;
  const plain = (end: number) => {
    if (end > last) out.push(document.createTextNode(code.slice(last, end)));
  };
  for (let m = re.exec(code); m; m = re.exec(code)) {
    if (m[4] !== undefined && !KEYWORDS.has(m[4])) continue;  // an ordinary name stays plain
    plain(m.index);
    const cls = m[1] !== undefined ? 'tok-comment' : m[2] !== undefined ? 'tok-string' : m[3] !== undefined ? 'tok-number' : 'tok-keyword';
    out.push(h('span', { class: cls }, m[0]));
    last = m.index + m[0].length;
  }
  plain(code.length);
  return out;
}
