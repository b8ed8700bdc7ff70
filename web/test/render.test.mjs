// The Markdown renderer and highlighter (web/src/markdown.ts), bundled here with esbuild and run
// in chromium: answers are untrusted text, so markup in them must stay text.

import { build } from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
let browser, page;

before(async () => {
  const bundle = await build({
    stdin: { contents: "import { markdown } from './markdown'; window.render = (s) => { const d = document.createElement('div'); d.append(markdown(s)); return d; };", resolveDir: join(here, '../src'), loader: 'ts' },
    bundle: true, write: false, format: 'iife',
  });
  browser = await launch();
  page = await browser.newPage();
  await page.setContent('<body></body>');
  await page.addScriptTag({ content: bundle.outputFiles[0].text });
});

after(() => browser?.close());

const SAMPLE = [
  '### A heading', 'Some **bold**, *italic*, `inline code` and a [link](https://example.com).', '',
  '- first item', '- second item', '', '> a quote', '',
  '```python', 'def greet(name):  # says hello', '    return f"Hello, {name}!" * 2', '```', '',
  '| model | size |', '|---|---:|', '| tiny | 27 MB |',
].join('\n');

const html = (md) => page.evaluate((s) => window.render(s).innerHTML, md);

test('markup in an answer stays text', async () => {
  assert.equal(await html('<img src=x onerror="alert(1)"> & <b>'), '<p>&lt;img src=x onerror="alert(1)"&gt; &amp; &lt;b&gt;</p>');
  assert.equal(await html('[x](javascript:alert(1))'), '<p>[x](javascript:alert(1))</p>');
  assert.equal(await html('[site](https://example.com/a)'), '<p><a href="https://example.com/a" target="_blank" rel="noopener noreferrer">site</a></p>');
});

test('inline styles, lists, headings, quotes, tables', async () => {
  assert.equal(await html('**bold** *it* _it2_ ~~gone~~ `a<b`'), '<p><strong>bold</strong> <em>it</em> <em>it2</em> <del>gone</del> <code>a&lt;b</code></p>');
  assert.equal(await html('snake_case_name stays'), '<p>snake_case_name stays</p>');
  assert.equal(await html('- one\n- **two**\n\n3. three\n4. four'), '<ul><li>one</li><li><strong>two</strong></li></ul><ol start="3"><li>three</li><li>four</li></ol>');
  assert.equal(await html('# Title\nline one\nline two\n> quoted'), '<h3>Title</h3><p>line one<br>line two</p><blockquote><p>quoted</p></blockquote>');
  assert.equal(await html('a | b\n---'), '<p>a | b</p><hr>');
  assert.equal(await html('| a | b |\n|---|:-:|\n| 1 | 2 |'), '<div class="table"><table><thead><tr><th>a</th><th class="al-center">b</th></tr></thead><tbody><tr><td>1</td><td class="al-center">2</td></tr></tbody></table></div>');
});

test('code blocks are highlighted, copyable, and render while the fence is still open', async () => {
  const done = await html('```python\ndef f(x):  # add one\n    return x + 1\n```\nafter');
  assert.match(done, /^<div class="code"><div class="code-head"><span>python<\/span><button class="copy" type="button" title="Copy code">Copy<\/button><\/div>/);
  assert.match(done, /<span class="tok-keyword">def<\/span> f\(x\):  <span class="tok-comment"># add one<\/span>/);
  assert.match(done, /<span class="tok-keyword">return<\/span> x \+ <span class="tok-number">1<\/span><\/code><\/pre><\/div><p>after<\/p>$/);
  const open = await html('text\n```js\nconst s = "<b>";');
  assert.match(open, /<span class="tok-keyword">const<\/span> s = <span class="tok-string">"&lt;b&gt;"<\/span>;<\/code><\/pre><\/div>$/);
});

test('a screenshot of a rendered answer with the page style sheet', async () => {
  const shots = process.env.HEARTH_UI_SHOTS ?? join(here, '../test-output');
  mkdirSync(shots, { recursive: true });
  await page.addStyleTag({ content: readFileSync(join(here, '../dist/style.css'), 'utf8') });
  await page.setViewportSize({ width: 700, height: 560 });
  await page.evaluate((md) => {
    const article = document.createElement('article');
    article.className = 'msg assistant';
    const content = window.render(md);
    content.className = 'content';
    article.append(content);
    document.body.append(article);
  }, SAMPLE);
  assert.equal(await page.locator('.code .tok-string').count(), 1);
  await page.screenshot({ path: join(shots, 'markdown.png') });
});
