// Drives hearth serve with the unmodified Anthropic and OpenAI SDKs (versions pinned in
// package.json). Env: HEARTH_URL (http://127.0.0.1:PORT), HEARTH_MODEL, HEARTH_KEY.
// Prints "ok <case>" per case; any failed check throws and exits non-zero.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const url = process.env.HEARTH_URL;
const model = process.env.HEARTH_MODEL;
const key = process.env.HEARTH_KEY;
const anthropic = new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0 });
const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather of a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

async function check(name, fn) {
  await fn();
  console.log(`ok ${name}`);
}

function textOf(message) {
  return message.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
}

await check('anthropic messages.create', async () => {
  const m = await anthropic.messages.create({
    model, max_tokens: 8, temperature: 0, system: 'You are terse.',
    messages: [{ role: 'user', content: 'Say hi' }],
  });
  assert.equal(m.type, 'message');
  assert.equal(m.role, 'assistant');
  assert.match(m.id, /^msg_/);
  assert.ok(Array.isArray(m.content));
  assert.ok(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use'].includes(m.stop_reason), m.stop_reason);
  assert.ok(m.usage.input_tokens > 0);
  assert.ok(m.usage.output_tokens > 0 && m.usage.output_tokens <= 8);
});

await check('anthropic messages.stream', async () => {
  const stream = anthropic.messages.stream({
    model, max_tokens: 8, temperature: 0, messages: [{ role: 'user', content: 'Count to three' }],
  });
  let streamed = '';
  const events = [];
  stream.on('text', (t) => { streamed += t; });
  stream.on('streamEvent', (e) => events.push(e.type));
  const final = await stream.finalMessage();
  assert.equal(events[0], 'message_start');
  assert.equal(events.at(-1), 'message_stop');
  assert.equal(events.at(-2), 'message_delta');
  assert.equal(textOf(final), streamed);
  assert.ok(final.usage.output_tokens > 0);
  assert.ok(final.stop_reason);
});

await check('anthropic tools with a tool_result turn', async () => {
  const m = await anthropic.messages.create({
    model, max_tokens: 8, temperature: 0, tools: [weatherTool],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: 'sunny, 21C' }] },
    ],
  });
  assert.equal(m.type, 'message');
  for (const b of m.content) assert.ok(['text', 'thinking', 'tool_use'].includes(b.type), b.type);
});

await check('anthropic error shape', async () => {
  await assert.rejects(
    anthropic.messages.create({ model: 'no-such-model', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.NotFoundError && err.error?.type === 'error' && err.error?.error?.type === 'not_found_error',
  );
});

await check('openai responses.create', async () => {
  const r = await openai.responses.create({
    model, input: 'Say hi', instructions: 'You are terse.', max_output_tokens: 8, temperature: 0,
  });
  assert.equal(r.object, 'response');
  assert.equal(r.status, 'completed');
  assert.equal(typeof r.output_text, 'string');
  assert.ok(r.output.some((o) => o.type === 'message'));
  assert.ok(r.usage.input_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
});

await check('openai responses.stream', async () => {
  const stream = openai.responses.stream({ model, input: 'Count to three', max_output_tokens: 8, temperature: 0 });
  let streamed = '';
  const types = [];
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') streamed += event.delta;
  }
  const final = await stream.finalResponse();
  assert.equal(types[0], 'response.created');
  assert.equal(types.at(-1), 'response.completed');
  assert.equal(final.output_text, streamed);
});

await check('openai responses with a function_call_output turn', async () => {
  const r = await openai.responses.create({
    model, max_output_tokens: 8, temperature: 0,
    tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: weatherTool.input_schema, strict: false }],
    input: [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: 'call_01', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_01', output: 'sunny, 21C' },
    ],
  });
  assert.equal(r.status, 'completed');
  assert.equal(r.tools[0].name, 'get_weather');
});
