// The page in a real browser (Debian's chromium through playwright-core) against `hearth serve`
// behind HEARTH_API_KEY, with the shared tiny models: key prompt, chat with a streamed answer and
// its speed line, stop mid-stream, thinking, reload, pull from a local registry with its progress
// bar, show, unload, delete; screenshots of the main views in HEARTH_UI_SHOTS.

import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launch, openPage } from './browser.mjs';
import { Harness } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const exe = process.env.HEARTH_EXE;
const testdata = process.env.HEARTH_TESTDATA_DIR;
const shots = process.env.HEARTH_UI_SHOTS ?? join(here, '../test-output');
mkdirSync(shots, { recursive: true });
const KEY = 'ui-test-key';
const CHAT_MODEL = 'tiny-qwen3:latest';
const THINKING_MODEL = 'tiny-r1:latest';  // R1-Distill's template opens <think>: its output is thinking

let hearth, browser, page, remote;
const problems = [];

before(async () => {
  hearth = new Harness({ exe, apiKey: KEY });
  await hearth.start();
  hearth.createModel('tiny-qwen3', join(testdata, 'qwen3-tiny-q8_0.gguf'));
  hearth.createModel('tiny-r1', join(testdata, 'qwen2-tiny-q8_0.gguf'));
  // The model the page will pull: pushed to the local registry, then removed from the store.
  remote = `127.0.0.1:${hearth.registryPort}/library/stories:260k`;
  hearth.createModel(remote, join(testdata, 'stories260K.gguf'));
  hearth.hearth('push', remote, '--insecure');
  hearth.hearth('rm', remote);
  browser = await launch();
  page = await openPage(browser, hearth.base, KEY, problems);
});

after(async () => {
  await browser?.close();
  hearth?.stop();
});

const shot = (name) => page.screenshot({ path: join(shots, name + '.png'), fullPage: false });

function rawGet(path, host) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: hearth.port, path, headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

test('the page is public, compiled in, and under the API\'s Host rule; / still answers for probes', async () => {
  assert.ok(hearth.log.join('').includes(`Web page: ${hearth.base}/ui`), 'hearth serve says where the page is');
  assert.equal((await fetch(hearth.base + '/api/tags')).status, 401);
  const res = await fetch(hearth.base + '/ui/app.js');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
  assert.equal(await res.text(), readFileSync(join(here, '../dist/app.js'), 'utf8'));
  assert.equal((await fetch(hearth.base + '/ui/nothing.js')).status, 404);
  assert.match(await (await fetch(hearth.base + '/')).text(), /is running/);
  assert.equal(await rawGet('/ui', `127.0.0.1:${hearth.port}`), 200);
  assert.equal(await rawGet('/ui', 'evil.example.com'), 403);
});

test('chat: streamed answer, speed line, stop mid-stream, thinking', async () => {
  await page.selectOption('#model', CHAT_MODEL);
  await page.locator('.settings summary').click();
  await page.fill('#num_predict', '24');
  await page.selectOption('#think', 'false');
  await page.fill('#prompt', 'Hello there');
  await page.keyboard.press('Enter');
  const answer = page.locator('article.assistant').last();
  await answer.locator('.speed').waitFor();
  assert.ok((await answer.locator('.content').innerText()).trim().length > 0, 'the answer has text');
  const speed = await answer.locator('.speed summary').innerText();
  assert.match(speed, /^\d+\.\d\d tokens\/s · 24 tokens · prompt \d+ tokens at \d+\.\d\d tokens\/s/);
  await answer.locator('.speed summary').click();
  assert.match(await answer.locator('.speed pre').innerText(), /eval rate:\s+\d+\.\d\d tokens\/s/);
  await shot('chat');

  // Unbounded answer: it must be seen growing while streaming, then stopped by the button.
  await page.fill('#num_predict', '-1');
  await page.locator('#num_predict').dispatchEvent('change');
  await page.fill('#prompt', 'Tell me a long story');
  await page.locator('#send').click();
  const streaming = page.locator('article.assistant .content.streaming');
  await page.waitForFunction(() => (document.querySelector('.content.streaming')?.textContent ?? '').length > 40);
  const partial = (await streaming.innerText()).length;
  await page.locator('#stop').click();
  const stopped = page.locator('article.assistant').last();
  await stopped.locator('.note', { hasText: 'stopped' }).waitFor();
  assert.equal(await page.locator('#stop').isVisible(), false);
  assert.equal(await page.locator('#send').isVisible(), true);
  const final = (await stopped.locator('.content').innerText()).length;
  assert.ok(final >= partial, 'the stopped answer keeps what had streamed');
  await page.waitForTimeout(300);
  assert.equal((await stopped.locator('.content').innerText()).length, final, 'nothing arrives after Stop');

  // Thinking on: the reasoning is shown apart from the answer, collapsed.
  await page.selectOption('#model', THINKING_MODEL);
  await page.selectOption('#think', 'true');
  const sent = page.waitForRequest('**/api/chat');
  await page.fill('#num_predict', '16');
  await page.locator('#num_predict').dispatchEvent('change');
  await page.fill('#prompt', 'Think first');
  await page.keyboard.press('Enter');
  const body = (await sent).postDataJSON();
  assert.equal(body.think, true);
  assert.equal(body.model, THINKING_MODEL);
  assert.deepEqual(body.options, { num_predict: 16 });
  const thought = page.locator('article.assistant').last();
  await thought.locator('.speed').waitFor();
  const details = thought.locator('details.thinking');
  assert.equal(await details.count(), 1, 'the thinking is in its own block');
  assert.equal(await details.evaluate((d) => d.open), false, 'and collapsed');
  assert.ok((await details.locator('.plain').textContent()).length > 0);
});

test('the conversation is still there after a reload; regenerate and edit-and-resend', async () => {
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');  // the key is kept for the tab: no prompt
  await page.locator('#conversations li', { hasText: 'Hello there' }).waitFor();
  assert.equal(await page.locator('article.user').count(), 3);
  assert.equal(await page.locator('article.assistant').count(), 3);
  assert.equal(await page.locator('article.assistant .note', { hasText: 'stopped' }).count(), 1);

  await page.locator('article.assistant').last().getByRole('button', { name: 'Regenerate' }).click();
  await page.locator('article.assistant').nth(2).locator('.speed').waitFor();
  assert.equal(await page.locator('article.assistant').count(), 3);

  await page.locator('article.user').first().getByRole('button', { name: 'Edit' }).click();
  await page.locator('textarea.edit').fill('Hello again');
  await page.keyboard.press('Enter');
  await page.locator('article.assistant .speed').first().waitFor();
  assert.equal(await page.locator('article.user').count(), 1);
  assert.equal(await page.locator('article.user .content').innerText(), 'Hello again');
});

test('models: pull with a progress bar, show, running with unload, delete', async () => {
  await page.locator('#tab-models').click();
  await page.locator('#running tr', { hasText: CHAT_MODEL }).waitFor();
  assert.match(await page.locator('#running tr', { hasText: CHAT_MODEL }).innerText(), /100% CPU/);

  await page.fill('#pull-name', remote);
  await page.check('#pull-insecure');
  // Every status line the page writes while the pull runs (a local pull of 1.2 MB is over in
  // milliseconds, so the records are read rather than the screen).
  await page.evaluate(() => {
    window.seen = [];
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.target.classList?.contains('pull-status')) r.addedNodes.forEach((n) => window.seen.push(n.textContent));
      }
    }).observe(document.getElementById('pulls'), { subtree: true, childList: true });
  });
  await page.locator('#pull-form button[type=submit]').click();
  const pull = page.locator('.pull').first();
  await pull.locator('progress').waitFor();
  await page.locator('.pull.done').waitFor();
  const bar = await pull.locator('progress').evaluate((p) => [p.value, p.max]);
  assert.ok(bar[1] > 1000 && bar[0] === bar[1], `progress bar full at the end: ${bar}`);
  assert.match(await pull.locator('.pull-status').innerText(), /success/);
  const seen = await page.evaluate(() => window.seen);
  assert.ok(seen.some((s) => /^pulling \S+ — .* \/ 1\.\d MB \(\d+%\)$/.test(s)), `layer progress shown: ${seen.join(' | ')}`);
  const row = page.locator(`#installed tr[data-model="${remote}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /llama/);
  await row.getByRole('button', { name: 'Show' }).click();
  assert.match(await page.locator('.details-row').innerText(), /FROM /);
  await shot('models');

  // A pull that fails says why, in place of the bar.
  await page.fill('#pull-name', `127.0.0.1:${hearth.registryPort}/library/missing:1`);
  await page.locator('#pull-form button[type=submit]').click();
  assert.match(await page.locator('.pull.failed .pull-status').innerText(), /^error: .+/);

  const loaded = page.locator('#running tr', { hasText: CHAT_MODEL });
  await loaded.getByRole('button', { name: 'Unload' }).click();
  await loaded.waitFor({ state: 'detached' });
  assert.deepEqual((await (await hearth.api('/api/ps')).json()).models.map((m) => m.name), [THINKING_MODEL]);

  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  const tags = await (await hearth.api('/api/tags')).json();
  assert.deepEqual(tags.models.map((m) => m.name).sort(), [CHAT_MODEL, THINKING_MODEL]);

  // Chat from the list: a new conversation with that model (the open one has messages).
  await page.locator(`#installed tr[data-model="${CHAT_MODEL}"]`).getByRole('button', { name: 'Chat' }).click();
  await page.locator('#chat-view').waitFor();
  assert.equal(await page.locator('#model').inputValue(), CHAT_MODEL);
  assert.equal(await page.locator('#messages article').count(), 0);
});

test('dark theme on a phone-sized screen', async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.locator('#tab-chat').click();
  await page.locator('#theme').click();  // auto -> light
  await page.locator('#theme').click();  // light -> dark
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  // On a phone the conversations fold into the menu (slid off the screen's left edge).
  const folded = () => page.waitForFunction(() => document.querySelector('.sidebar').getBoundingClientRect().right <= 0);
  await folded();
  await page.locator('button.menu').click();
  await page.waitForFunction(() => document.querySelector('.sidebar').getBoundingClientRect().left >= 0);
  await page.locator('#conversations .title', { hasText: 'Hello there' }).click();
  await page.locator('article.assistant').first().waitFor();
  await folded();
  await shot('chat-phone-dark');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px)`);
  assert.deepEqual(problems, []);
});
