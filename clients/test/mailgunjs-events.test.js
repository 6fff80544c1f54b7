'use strict';
// mailgun.js 14: events paging the way Ghost pages them — the next page's
// token plus every original option repeated on the page URL.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { env, client, uid, waitEvents } = require('./lib/salvo');

const mg = client();

test('events.get: paging with the original options repeated (Ghost style)', async () => {
  const id = uid();
  const tag = `paging-${id}`;
  const begin = Date.now() / 1000 - 60;
  const rcpts = Array.from({ length: 7 }, (_, i) => `p${i}-${id}@example.net`);
  for (const to of rcpts) {
    await mg.messages.create(env.domain, {
      from: `app@${env.domain}`,
      to,
      subject: 'paging',
      text: 'x',
      'o:tag': tag,
    });
  }
  await waitEvents(mg, env.domain, { event: 'delivered', tags: tag }, rcpts.length);

  const options = {
    limit: 3,
    event: 'delivered OR opened OR failed OR unsubscribed OR complained',
    tags: tag,
    begin,
    end: Date.now() / 1000 + 60,
    ascending: 'yes',
  };
  const seen = [];
  let page = await mg.events.get(env.domain, options);
  let pages = 0;
  while (page.items.length > 0) {
    pages++;
    assert.ok(pages <= 10, 'paging ends');
    assert.ok(page.items.length <= 3, 'limit honoured');
    seen.push(...page.items);
    // exactly what Ghost's MailgunClient does for the next page
    page = await mg.events.get(env.domain, { page: page.pages.next.page, ...options });
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen.map((e) => e.recipient).sort(), [...rcpts].sort(), 'every delivery once');
  const times = seen.map((e) => e.timestamp);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'in ascending order',
  );
});

test('events.get: filters and the event shape mailgun.js reads', async () => {
  const id = uid();
  const to = `shape-${id}@example.net`;
  const res = await mg.messages.create(env.domain, {
    from: `app@${env.domain}`,
    to,
    subject: `shape ${id}`,
    text: 'x',
    'v:k': 'v',
  });
  const msgId = res.id.replace(/^<|>$/g, '');
  const [acc] = await waitEvents(mg, env.domain, { event: 'accepted', recipient: to }, 1);
  const [del] = await waitEvents(mg, env.domain, { event: 'delivered', 'message-id': msgId }, 1);
  for (const e of [acc, del]) {
    assert.equal(typeof e.id, 'string');
    assert.equal(typeof e.timestamp, 'number');
    assert.equal(e.recipient, to);
    assert.equal(e.message.headers['message-id'], msgId);
    assert.deepEqual(e['user-variables'], { k: 'v' });
  }
  assert.equal(del['delivery-status'].code, 250);
  const none = await mg.events.get(env.domain, { event: 'failed', recipient: to });
  assert.deepEqual(none.items, []);
});
