'use strict';
// mailgun.js 14: sending (single, batch, templates) and what arrives.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  env,
  client,
  uid,
  waitSink,
  sinkMessages,
  header,
  decoded,
  waitEvents,
  getTracked,
} = require('./lib/salvo');

const mg = client();
const bare = (id) => id.replace(/^<|>$/g, '');

test('messages.create: text, html, attachment, tags, variables, headers, o: options', async () => {
  const id = uid();
  const to = `alice-${id}@example.net`;
  const res = await mg.messages.create(env.domain, {
    from: `Sender <sender@${env.domain}>`,
    to: [`Alice <${to}>`],
    subject: `hello ${id}`,
    text: `plain body ${id}`,
    html: `<p>html body ${id}</p>`,
    attachment: [{ filename: 'note.txt', data: Buffer.from(`attached ${id}`) }],
    'o:tag': ['news', `t-${id}`],
    'o:tracking': 'no',
    'o:dkim': 'yes',
    'v:order': '42',
    'h:X-Custom': `custom-${id}`,
  });
  assert.equal(res.status, 200);
  assert.equal(res.message, 'Queued. Thank you.');
  assert.match(res.id, /^<[^<>@]+@[^<>]+>$/);

  const [msg] = await waitSink(to);
  assert.equal(header(msg.data, 'Subject'), `hello ${id}`);
  assert.equal(header(msg.data, 'X-Custom'), `custom-${id}`);
  assert.ok(header(msg.data, 'DKIM-Signature'), 'signed with DKIM');
  assert.match(msg.data, /filename="?note\.txt"?/);
  assert.ok(decoded(msg.data).includes(`html body ${id}`) && decoded(msg.data).includes(`plain body ${id}`));
  assert.ok(msg.data.includes(Buffer.from(`attached ${id}`).toString('base64')), 'attachment content');

  const [ev] = await waitEvents(mg, env.domain, { event: 'delivered', 'message-id': bare(res.id) }, 1);
  assert.equal(ev.recipient, to);
  assert.deepEqual([...ev.tags].sort(), ['news', `t-${id}`].sort());
  assert.equal(ev['user-variables'].order, '42');
  assert.equal(ev.message.headers['message-id'], bare(res.id));
  assert.equal(ev.message.headers.subject, `hello ${id}`);
  assert.equal(ev.message.attachments[0].filename, 'note.txt');
});

test('messages.create: batch send with recipient-variables, one copy each', async () => {
  const id = uid();
  const people = ['ann', 'bob', 'cat'].map((n) => ({ n, addr: `${n}-${id}@example.org` }));
  const vars = Object.fromEntries(people.map((p, i) => [p.addr, { name: p.n.toUpperCase(), num: i }]));
  const res = await mg.messages.create(env.domain, {
    from: `news@${env.domain}`,
    to: people.map((p) => p.addr),
    subject: 'Hi %recipient.name%',
    text: 'Dear %recipient.name%, you are number %recipient.num% (%recipient%).',
    'recipient-variables': JSON.stringify(vars),
    'o:tag': `batch-${id}`,
  });
  assert.equal(res.status, 200);
  for (const [i, p] of people.entries()) {
    const msgs = await waitSink(p.addr);
    assert.equal(msgs.length, 1, `one copy for ${p.addr}`);
    const m = msgs[0];
    assert.deepEqual(m.to, [p.addr], 'the copy is enveloped to its recipient only');
    const others = people.filter((o) => o !== p).map((o) => o.addr);
    assert.ok(header(m.data, 'To').includes(p.addr), 'To names this recipient');
    assert.ok(
      others.every((o) => !m.data.includes(o)),
      `the copy for ${p.addr} names no other recipient`,
    );
    assert.equal(header(m.data, 'Subject'), `Hi ${p.n.toUpperCase()}`);
    assert.ok(
      decoded(m.data).includes(`Dear ${p.n.toUpperCase()}, you are number ${i} (${p.addr}).`),
      m.data,
    );
  }
  const evs = await waitEvents(mg, env.domain, { event: 'delivered', tags: `batch-${id}` }, 3);
  assert.deepEqual(evs.map((e) => e.recipient).sort(), people.map((p) => p.addr).sort());
  for (const e of evs) {
    assert.ok(e.message.headers.to.includes(e.recipient), "a delivered event shows its own copy's To");
    assert.ok(
      people.every((p) => p.addr === e.recipient || !e.message.headers.to.includes(p.addr)),
      `the event of ${e.recipient} names no other recipient`,
    );
  }
});

test("batch send with click tracking: each copy's clicked event names only its recipient", async () => {
  const id = uid();
  const people = ['dan', 'eve', 'fay'].map((n) => `${n}-${id}@example.org`);
  await mg.messages.create(env.domain, {
    from: `news@${env.domain}`,
    to: people,
    subject: 'links',
    html: '<p>Hi %recipient.n%, <a href="https://example.com/article">read</a></p>',
    'recipient-variables': JSON.stringify(Object.fromEntries(people.map((a, i) => [a, { n: i }]))),
    'o:tracking-clicks': 'yes',
    'o:tag': `click-${id}`,
  });
  const clicker = people[1];
  const [copy] = await waitSink(clicker);
  const link = decoded(copy.data).match(/<a href="([^"]+)"/);
  assert.ok(link && !link[1].startsWith('https://example.com/'), 'the link is rewritten');
  assert.equal(await getTracked(link[1].replace(/&amp;/g, '&')), 302);
  const [ev] = await waitEvents(mg, env.domain, { event: 'clicked', tags: `click-${id}` }, 1);
  assert.equal(ev.recipient, clicker);
  assert.equal(ev.url, 'https://example.com/article');
  assert.ok(ev.message.headers.to.includes(clicker));
  for (const other of people.filter((a) => a !== clicker)) {
    assert.ok(!ev.message.headers.to.includes(other), `${other} is not in the clicked event's To`);
  }
});

test('templates: create, versions, send with template and variables', async () => {
  const id = uid();
  const name = `welcome-${id}`;
  const tpl = mg.domains.domainTemplates;
  const created = await tpl.create(env.domain, {
    name,
    description: 'suite',
    template: '<p>Hello {{name}}</p>',
    tag: 'v1',
    comment: 'first',
  });
  assert.equal(created.name, name);
  assert.equal(created.version.tag, 'v1');
  const v2 = await tpl.createVersion(env.domain, name, {
    template: '<p>Goodbye {{name}}</p>',
    tag: 'v2',
    comment: 'second',
    active: 'yes',
  });
  assert.equal(v2.template.version.tag, 'v2');
  const versions = await tpl.listVersions(env.domain, name);
  assert.deepEqual(versions.template.versions.map((v) => v.tag).sort(), ['v1', 'v2']);
  const got = await tpl.get(env.domain, name, { active: 'yes' });
  assert.equal(got.version.tag, 'v2');
  assert.equal(got.version.template, '<p>Goodbye {{name}}</p>');

  const to1 = `t1-${id}@example.net`;
  const to2 = `t2-${id}@example.net`;
  await mg.messages.create(env.domain, {
    from: `app@${env.domain}`,
    to: to1,
    subject: 'active version',
    template: name,
    't:variables': JSON.stringify({ name: 'Zoe' }),
  });
  await mg.messages.create(env.domain, {
    from: `app@${env.domain}`,
    to: to2,
    subject: 'pinned version',
    template: name,
    't:version': 'v1',
    'h:X-Mailgun-Variables': JSON.stringify({ name: 'Yan' }),
  });
  const [m1] = await waitSink(to1);
  const [m2] = await waitSink(to2);
  assert.ok(decoded(m1.data).includes('Goodbye Zoe'), m1.data);
  assert.ok(decoded(m2.data).includes('Hello Yan'), m2.data);

  await tpl.destroyVersion(env.domain, name, 'v1');
  const after = await tpl.listVersions(env.domain, name);
  assert.deepEqual(
    after.template.versions.map((v) => v.tag),
    ['v2'],
  );
  await tpl.destroy(env.domain, name);
  await assert.rejects(tpl.get(env.domain, name), (err) => err.status === 404);
});

test('o:testmode: accepted, a delivered event with code 650, nothing sent', async () => {
  const id = uid();
  const to = `testmode-${id}@example.net`;
  const res = await mg.messages.create(env.domain, {
    from: `app@${env.domain}`,
    to,
    subject: 'test mode',
    text: 'x',
    'o:testmode': 'yes',
  });
  assert.equal(res.status, 200);
  const [ev] = await waitEvents(mg, env.domain, { event: 'delivered', recipient: to }, 1);
  assert.equal(ev['delivery-status'].code, 650);
  assert.deepEqual(await sinkMessages(to), [], 'nothing reached the MX');
});

test('tags: domainTags.list and get show the tags sends made', async () => {
  const tag = `tagged-${uid()}`;
  await mg.messages.create(env.domain, {
    from: `app@${env.domain}`,
    to: `${tag}@example.net`,
    subject: 'tagged',
    text: 'x',
    'o:tag': tag,
  });
  const got = await mg.domains.domainTags.get(env.domain, tag);
  assert.equal(got.tag, tag);
  assert.ok(got['first-seen'] instanceof Date && !Number.isNaN(got['first-seen'].getTime()));
  const list = await mg.domains.domainTags.list(env.domain, { limit: 1000 });
  assert.ok(list.items.some((t) => t.tag === tag));
});
