'use strict';
// mailgun.js 14: webhooks (CRUD and a signed delivery), mailing lists and
// members (with a send to the list), routes, domains, stats.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { env, client, uid, getJSON, waitFor, waitSink, header, decoded } = require('./lib/salvo');

const mg = client();

test('webhooks: create, get, list, update, delete; a delivered event is posted and signed', async () => {
  const id = uid();
  const url1 = `${env.sinkURL}/hook/${id}/a`;
  const url2 = `${env.sinkURL}/hook/${id}/b`;
  const created = await mg.webhooks.create(env.domain, 'delivered', url1);
  assert.equal(created.id, 'delivered');
  assert.deepEqual(created.urls, [url1]);
  assert.deepEqual((await mg.webhooks.get(env.domain, 'delivered')).urls, [url1]);
  const list = await mg.webhooks.list(env.domain, {});
  assert.deepEqual(list.delivered.urls, [url1]);

  const { http_signing_key: signingKey } = await mg.accountManagement.getWebhookSigningKey();
  assert.ok(signingKey, 'signing key');
  const to = `hook-${id}@example.net`;
  await mg.messages.create(env.domain, { from: `app@${env.domain}`, to, subject: 'hook', text: 'x' });
  const post = await waitFor('webhook POST', async () =>
    (await getJSON(`${env.sinkURL}/hooks`)).find(
      (p) => p.path === `/hook/${id}/a` && JSON.parse(p.body)['event-data'].recipient === to,
    ),
  );
  assert.equal(post.content_type, 'application/json');
  const body = JSON.parse(post.body);
  assert.equal(body['event-data'].event, 'delivered');
  const { timestamp, token, signature } = body.signature;
  const want = crypto
    .createHmac('sha256', signingKey)
    .update(timestamp + token)
    .digest('hex');
  assert.equal(signature, want, 'HMAC-SHA256 signature');

  const updated = await mg.webhooks.update(env.domain, 'delivered', [url1, url2]);
  assert.deepEqual(updated.urls, [url1, url2]);
  const deleted = await mg.webhooks.destroy(env.domain, 'delivered');
  assert.equal(deleted.id, 'delivered');
  await assert.rejects(mg.webhooks.get(env.domain, 'delivered'), (err) => err.status === 404);
});

test('mailing lists and members; a send to the list reaches every subscribed member', async () => {
  const id = uid();
  const address = `list-${id}@${env.domain}`;
  const list = await mg.lists.create({
    address,
    name: 'Suite',
    description: 'client suite',
    access_level: 'readonly',
  });
  assert.equal(list.address, address);
  assert.equal(list.access_level, 'readonly');
  const m1 = `m1-${id}@example.net`;
  const m2 = `m2-${id}@example.net`;
  const m3 = `m3-${id}@example.net`;
  const member = await mg.lists.members.createMember(address, {
    address: m1,
    name: 'One',
    vars: JSON.stringify({ n: 1 }),
    subscribed: 'yes',
  });
  assert.equal(member.address, m1);
  assert.deepEqual(member.vars, { n: 1 });
  await mg.lists.members.createMembers(address, {
    members: [
      { address: m2, name: 'Two', vars: { n: 2 } },
      { address: m3, name: 'Three', subscribed: false },
    ],
    upsert: 'yes',
  });
  assert.equal((await mg.lists.get(address)).members_count, 3);
  const members = await mg.lists.members.listMembers(address);
  assert.deepEqual(members.items.map((m) => m.address).sort(), [m1, m2, m3]);
  assert.equal((await mg.lists.members.getMember(address, m3)).subscribed, false);
  const upd = await mg.lists.members.updateMember(address, m2, { name: 'Deux' });
  assert.equal(upd.name, 'Deux');
  const updList = await mg.lists.update(address, { description: 'changed' });
  assert.equal(updList.description, 'changed');
  assert.ok((await mg.lists.list()).items.some((l) => l.address === address));

  await mg.messages.create(env.domain, {
    from: `app@${env.domain}`,
    to: address,
    subject: 'to the list',
    text: 'Hello %recipient_name% n=%recipient.n%',
  });
  const [c1] = await waitSink(m1);
  const [c2] = await waitSink(m2);
  assert.ok(decoded(c1.data).includes('Hello One n=1'), c1.data);
  assert.ok(decoded(c2.data).includes('Hello Deux n=2'), c2.data);
  assert.ok(header(c1.data, 'To').includes(address), 'To stays the list');

  await mg.lists.members.destroyMember(address, m1);
  await assert.rejects(mg.lists.members.getMember(address, m1), (err) => err.status === 404);
  await mg.lists.destroy(address);
  await assert.rejects(mg.lists.get(address), (err) => err.status === 404);
});

test('routes: create, get, list, update, match, delete', async () => {
  const id = uid();
  const created = await mg.routes.create({
    priority: 5,
    description: `suite ${id}`,
    expression: `match_recipient("r-${id}@${env.domain}")`,
    action: [`forward("${env.sinkURL}/hook/route-${id}")`, 'stop()'],
  });
  assert.match(created.id, /^[0-9a-f]{24}$/);
  assert.deepEqual(created.actions, [`forward("${env.sinkURL}/hook/route-${id}")`, 'stop()']);
  const got = await mg.routes.get(created.id);
  assert.equal(got.description, `suite ${id}`);
  assert.equal(got.priority, 5);
  assert.ok((await mg.routes.list({ limit: 1000 })).some((r) => r.id === created.id));
  const upd = await mg.routes.update(created.id, {
    priority: 1,
    expression: `match_recipient("s-${id}@${env.domain}")`,
    action: ['stop()'],
  });
  assert.equal(upd.priority, 1);
  assert.equal((await mg.routes.get(created.id)).expression, `match_recipient("s-${id}@${env.domain}")`);
  const matched = await mg.routes.matchAddress(`s-${id}@${env.domain}`);
  assert.equal(matched.id, created.id);
  await mg.routes.destroy(created.id);
  await assert.rejects(mg.routes.get(created.id), (err) => err.status === 404);
});

test('domains: create, list, get, delete; credentials; tracking settings', async () => {
  const name = `d-${uid()}.example.com`;
  const created = await mg.domains.create({ name });
  assert.equal(created.name, name);
  assert.ok(Array.isArray(created.sending_dns_records) && created.sending_dns_records.length > 0);
  assert.ok((await mg.domains.list()).some((d) => d.name === name));
  const got = await mg.domains.get(name);
  assert.equal(got.name, name);
  const cred = await mg.domains.domainCredentials.create(name, {
    login: `svc@${name}`,
    password: 'a-long-password',
  });
  assert.equal(cred.status, 200);
  const creds = await mg.domains.domainCredentials.list(name);
  assert.ok(creds.items.some((c) => c.login === `svc@${name}`));
  const changed = await mg.domains.domainCredentials.update(name, `svc@${name}`, {
    password: 'another-password',
  });
  assert.equal(changed.status, 200);
  const removed = await mg.domains.domainCredentials.destroy(name, `svc@${name}`);
  assert.equal(removed.status, 200);
  assert.ok(!(await mg.domains.domainCredentials.list(name)).items.some((c) => c.login === `svc@${name}`));

  const tracking = mg.domains.domainTracking;
  const before = await tracking.getTracking(name);
  assert.equal(before.open.active, false, 'tracking is off for a new domain');
  await tracking.updateTracking(name, 'open', { active: true });
  await tracking.updateTracking(name, 'click', { active: 'htmlonly' });
  const after = await tracking.getTracking(name);
  assert.equal(after.open.active, true);
  // Mailgun reports htmlonly as active: true (mailgun-go decodes a boolean)
  assert.equal(after.click.active, true);
  const del = await mg.domains.destroy(name);
  assert.match(del.message, /deleted/i);
  await assert.rejects(mg.domains.get(name), (err) => err.status === 404);
});

test('stats: domain totals count what was sent', async () => {
  const id = uid();
  await mg.messages.create(env.domain, {
    from: `app@${env.domain}`,
    to: `st-${id}@example.net`,
    subject: 's',
    text: 'x',
  });
  await waitSink(`st-${id}@example.net`);
  const total = (s) => s.stats.reduce((n, x) => n + x.accepted.outgoing, 0);
  const stats = await waitFor('accepted counted', async () => {
    const s = await mg.stats.getDomain(env.domain, {
      event: ['accepted', 'delivered'],
      duration: '1d',
      resolution: 'hour',
    });
    return total(s) >= 1 ? s : null;
  });
  assert.equal(stats.resolution, 'hour');
  assert.ok(stats.start instanceof Date && stats.end instanceof Date);
  const account = await mg.stats.getAccount({ event: ['accepted'], duration: '1d' });
  assert.ok(total(account) >= total(stats), 'account totals include the domain');
});
