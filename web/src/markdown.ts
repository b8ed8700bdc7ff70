// Markdown of chat answers to DOM nodes: fenced code (highlighted, with a copy button), headings,
// lists, quotes, rules, tables, and inline code, bold, italics, strikethrough and links. Text only
// ever becomes text nodes, so an answer cannot inject markup; links are limited to http(s) and
// mailto. A fence still open (an answer mid-stream) renders as code up to the end.

import { copyText, h } from './dom';
import { highlight } from './highlight';

const INLINE = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\*\*(\S[\s\S]*?)\*\*|__(\S[\s\S]*?)__|~~(\S[\s\S]*?)~~|\*(\S[\s\S]*?)\*|(?<![A-Za-z0-9])_(\S[\s\S]*?)_(?![A-Za-z0-9])|\[([^\]\n]+)\]\(([^)\s]+)\)/g;

export function inline(text: string): Node[] {
  const out: Node[] = [];
  let last = 0;
  const re = new RegExp(INLINE);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(document.createTextNode(text.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[2] !== undefined) out.push(h('code', {}, m[2]));
    else if (m[3] !== undefined || m[4] !== undefined) out.push(h('strong', {}, inline(m[3] ?? m[4])));
    else if (m[5] !== undefined) out.push(h('del', {}, inline(m[5])));
    else if (m[6] !== undefined || m[7] !== undefined) out.push(h('em', {}, inline(m[6] ?? m[7])));
    else if (/^(https?:|mailto:)/i.test(m[9])) out.push(h('a', { href: m[9], target: '_blank', rel: 'noopener noreferrer' }, inline(m[8])));
    else out.push(document.createTextNode(m[0]));
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

function codeBlock(lang: string, code: string): HTMLElement {
  const copy = h('button', { class: 'copy', type: 'button', title: 'Copy code' }, 'Copy');
  copy.addEventListener('click', () => {
    copyText(code).then(() => {
      copy.textContent = 'Copied';
      setTimeout(() => (copy.textContent = 'Copy'), 1500);
    });
  });
  return h('div', { class: 'code' },
    h('div', { class: 'code-head' }, h('span', {}, lang || 'text'), copy),
    h('pre', {}, h('code', { class: lang ? 'lang-' + lang : '' }, highlight(code, lang))));
}

const LIST_ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

// A header line and a delimiter row ("|---|:-:|"); the row needs a pipe so that a rule under a
// line that merely contains one stays a rule.
function isTable(line: string, next: string | undefined): boolean {
  return line.includes('|') && next !== undefined && next.includes('|') && TABLE_RULE.test(next);
}

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
}

function isBlockStart(line: string, next: string | undefined): boolean {
  return /^\s{0,3}(```|~~~|#{1,6}\s|>|(-{3,}|\*{3,}|_{3,})\s*$)/.test(line) || LIST_ITEM.test(line) ||
    isTable(line, next);
}

export function markdown(src: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s{0,3}(```+|~~~+)\s*([\w+#.-]*)/.exec(line);
    if (fence) {
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence[1]); i++) body.push(lines[i]);
      i++;
      frag.appendChild(codeBlock(fence[2], body.join('\n')));
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      frag.appendChild(h(`h${heading[1].length + 2 > 6 ? 6 : heading[1].length + 2}` as 'h3', {}, inline(heading[2])));
      i++;
      continue;
    }
    if (/^\s{0,3}(-{3,}|\*{3,}|_{3,})\s*$/.test(line)) {
      frag.appendChild(h('hr'));
      i++;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const body: string[] = [];
      for (; i < lines.length && /^\s{0,3}>/.test(lines[i]); i++) body.push(lines[i].replace(/^\s{0,3}>\s?/, ''));
      frag.appendChild(h('blockquote', {}, markdown(body.join('\n'))));
      continue;
    }
    if (isTable(line, lines[i + 1])) {
      // Alignment by class: the page's CSP allows no inline style.
      const align = cells(lines[i + 1]).map((c) => (c.endsWith(':') ? (c.startsWith(':') ? 'al-center' : 'al-right') : ''));
      const row = (text: string, tag: 'th' | 'td') => h('tr', {}, cells(text).map((c, k) => h(tag, { class: align[k] || undefined }, inline(c))));
      const head = row(line, 'th');
      const rows: HTMLElement[] = [];
      for (i += 2; i < lines.length && lines[i].includes('|'); i++) rows.push(row(lines[i], 'td'));
      frag.appendChild(h('div', { class: 'table' }, h('table', {}, h('thead', {}, head), h('tbody', {}, rows))));
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]);
      const list = ordered ? h('ol', { start: parseInt(item[1], 10) }) : h('ul');
      while (i < lines.length) {
        const m = LIST_ITEM.exec(lines[i]);
        if (!m || /\d/.test(m[1]) !== ordered) break;
        const body = [m[2]];
        // Indented lines (nested items, continued text) belong to the item.
        for (i++; i < lines.length && /^\s{2,}\S/.test(lines[i]); i++) body.push(lines[i].replace(/^\s{2,4}/, ''));
        list.appendChild(h('li', {}, body.length > 1 ? markdown(body.join('\n')) : inline(m[2])));
      }
      frag.appendChild(list);
      continue;
    }
    if (!line.trim()) {
      i++;
      continue;
    }
    const para: Node[] = [];
    for (; i < lines.length && lines[i].trim() && (para.length === 0 || !isBlockStart(lines[i], lines[i + 1])); i++) {
      if (para.length) para.push(h('br'));
      para.push(...inline(lines[i]));
    }
    frag.appendChild(h('p', {}, para));
  }
  return frag;
}
