// More of the chat page in chromium against `hearth serve` behind HEARTH_API_KEY: a refused key,
// conversations renamed, exported, deleted and started anew, Esc stopping an answer, image
// attachment offered only for models with the vision capability, and Markdown with code copied.

import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './browser.mjs';
import { Harness } from './harness.mjs';

const KEY = 'chat-more-key';
const MODEL = 'tiny-qwen3:latest';
// No shared model has vision: the page is told this one has (its /api/show answer amended in the
// browser), which is all the page goes by.
const VISION = 'pretend-vision:latest';
const shots = process.env.HEARTH_UI_SHOTS ?? join(dirname(fileURLToPath(import.meta.url)), '../test-output');
let hearth, browser, page;
const problems = [];

before(async () => {
  hearth = new Harness({ exe: process.env.HEARTH_EXE, apiKey: KEY });
  await hearth.start();
  hearth.createModel('tiny-qwen3', join(process.env.HEARTH_TESTDATA_DIR, 'qwen3-tiny-q8_0.gguf'));
  hearth.createModel('pretend-vision', join(process.env.HEARTH_TESTDATA_DIR, 'stories260K.gguf'));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  hearth?.stop();
});

async function send(text) {
  await page.fill('#prompt', text);
  await page.keyboard.press('Enter');
  await page.locator('article.assistant').last().locator('.speed, .error, .note').first().waitFor();
}

test('a refused key is asked for again', async () => {
  const p = await browser.newPage();
  await p.goto(hearth.base + '/ui');
  await p.locator('#api-key').fill('wrong');
  await p.keyboard.press('Enter');
  await p.locator('.key-dialog', { hasText: 'That key was refused' }).waitFor();
  assert.equal(await p.locator('#models-view').isVisible(), false, 'one view at a time, from the start');
  mkdirSync(shots, { recursive: true });
  await p.screenshot({ path: join(shots, 'api-key.png') });
  await p.locator('#api-key').fill(KEY);
  await p.keyboard.press('Enter');
  await p.waitForSelector('body[data-ready=true]');
  assert.ok(await p.locator('#model option', { hasText: MODEL }).count());
  await p.close();
});

test('conversations: new, rename, export, delete; Esc stops an answer', async () => {
  page = await openPage(browser, hearth.base, KEY, problems);
  await page.selectOption('#model', MODEL);
  await page.locator('.settings summary').click();
  await page.fill('#num_predict', '-1');
  await page.locator('#num_predict').dispatchEvent('change');
  await page.fill('#prompt', 'first chat');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => (document.querySelector('.content.streaming')?.textContent ?? '').length > 20);
  await page.keyboard.press('Escape');
  await page.locator('article.assistant .note', { hasText: 'stopped' }).waitFor();

  await page.locator('#new-chat').click();
  assert.equal(await page.locator('article').count(), 0);
  await page.fill('#num_predict', '8');
  await page.locator('#num_predict').dispatchEvent('change');
  await send('second chat');
  const items = page.locator('#conversations li');
  assert.deepEqual(await items.locator('.title').allInnerTexts(), ['second chat', 'first chat']);

  page.once('dialog', (d) => d.accept('Renamed chat'));
  await items.first().getByRole('button', { name: 'Rename' }).click();
  await items.locator('.title', { hasText: 'Renamed chat' }).waitFor();

  const download = page.waitForEvent('download');
  await items.first().getByRole('button', { name: 'Export' }).click();
  const file = await (await download).path();
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(exported.title, 'Renamed chat');
  assert.equal(exported.model, MODEL);
  assert.deepEqual(exported.messages.map((m) => m.role), ['user', 'assistant']);
  assert.equal(exported.messages[1].stats.eval_count, 8);

  page.once('dialog', (d) => d.accept());
  await items.first().getByRole('button', { name: 'Delete' }).click();
  await page.locator('#conversations li', { hasText: 'Renamed chat' }).waitFor({ state: 'detached' });
  // The remaining conversation opens in its place, and survives a reload.
  await page.locator('article.user', { hasText: 'first chat' }).waitFor();
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  assert.deepEqual(await page.locator('#conversations .title').allInnerTexts(), ['first chat']);

  // A new chat opened while an answer streams stops that answer and leaves the composer ready.
  await page.fill('#prompt', 'more please');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => (document.querySelector('.content.streaming')?.textContent ?? '').length > 20);
  await page.locator('#new-chat').click();
  assert.equal(await page.locator('#send').isVisible(), true);
  assert.equal(await page.locator('#stop').isVisible(), false);
  await page.locator('#conversations .title', { hasText: 'first chat' }).click();
  assert.equal(await page.locator('article.assistant .note', { hasText: 'stopped' }).count(), 2);
});

test('images can be attached only for a model with vision, and are sent with the message', async () => {
  await page.route('**/api/show', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    if (route.request().postDataJSON().model === VISION) body.capabilities = [...body.capabilities, 'vision'];
    await route.fulfill({ response: res, json: body });
  });
  // The vision capability is faked, so the server (rightly) refuses images for this model: the
  // answer to the chat request is the test's, as a vision model's would come.
  await page.route('**/api/chat', (route) => route.fulfill({
    contentType: 'application/x-ndjson',
    body: JSON.stringify({ model: VISION, message: { role: 'assistant', content: 'a dot' }, done: true, done_reason: 'stop' }) + '\n',
  }));
  await page.reload();  // the page keeps capabilities for its lifetime: start it afresh
  await page.waitForSelector('body[data-ready=true]');
  await page.locator('#new-chat').click();
  await page.selectOption('#model', MODEL);
  assert.equal(await page.locator('#attach-button').isVisible(), false);
  await page.selectOption('#model', VISION);
  await page.locator('#attach-button').waitFor();
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  // From the keyboard: the button takes focus and Enter opens the file chooser.
  const chooser = page.waitForEvent('filechooser');
  await page.locator('#attach-button').focus();
  await page.keyboard.press('Enter');
  await (await chooser).setFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
  await page.locator('.attached img').waitFor();
  const sent = page.waitForRequest('**/api/chat');
  await send('what is this?');
  const body = (await sent).postDataJSON();
  assert.deepEqual(body.messages.at(-1).images, [png.toString('base64')]);
  assert.equal(await page.locator('.attached img').count(), 0);
  assert.equal(await page.locator('article.user img').count(), 1);
  const shown = page.locator('article.user img');
  await page.waitForFunction(() => document.querySelector('article.user img')?.complete);
  assert.equal(await shown.evaluate((img) => img.naturalWidth), 1, 'the image is decoded and shown');
  assert.deepEqual(problems, []);
});

test('a streamed Markdown answer: code highlighted and copied with its button', async () => {
  // The tiny models write gibberish, never a code block: this answer is served by the test, in
  // /api/chat's NDJSON, in chunks that split the fence's lines as a real stream does.
  const parts = ['Here:\n\n```js\nconst', ' answer = 42; // the', ' answer\n```\nDone.'];
  const lines = parts.map((content) => JSON.stringify({ model: MODEL, message: { role: 'assistant', content }, done: false }));
  lines.push(JSON.stringify({ model: MODEL, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop',
    total_duration: 2e9, load_duration: 1e6, prompt_eval_count: 10, prompt_eval_duration: 5e8, eval_count: 12, eval_duration: 1e9 }));
  await page.unrouteAll();
  await page.route('**/api/chat', (route) => route.fulfill({ contentType: 'application/x-ndjson', body: lines.join('\n') + '\n' }));
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hearth.base });
  await page.locator('#new-chat').click();
  await page.selectOption('#model', MODEL);
  await send('code please');
  const answer = page.locator('article.assistant').last();
  assert.equal(await answer.locator('.code .tok-keyword').innerText(), 'const');
  assert.equal(await answer.locator('.code .tok-comment').innerText(), '// the answer');
  assert.match(await answer.locator('.speed summary').innerText(), /^12\.00 tokens\/s · 12 tokens · prompt 10 tokens at 20\.00 tokens\/s · 2\.000s$/);
  await answer.locator('.code .copy').click();
  await answer.locator('.code .copy', { hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'const answer = 42; // the answer');
  assert.deepEqual(problems, []);
});
