'use strict';
// mailgun.js 14: suppressions — bounces (JSON bulk with numeric codes, as
// mailgun.js types them), unsubscribes with tags, complaints, allowlist.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { env, client, uid } = require('./lib/salvo');

const mg = client();
const S = mg.suppressions;

test('bounces: bulk JSON with numeric code, list, get, delete', async () => {
  const id = uid();
  const a = `b1-${id}@example.net`;
  const b = `b2-${id}@example.net`;
  const res = await S.create(env.domain, 'bounces', [
    { address: a, code: 550, error: 'mailbox does not exist' },
    { address: b, code: '554', error: 'rejected' },
  ]);
  assert.match(res.message, /2 addresses have been added/);
  const got = await S.get(env.domain, 'bounces', a);
  assert.equal(got.address, a);
  assert.equal(Number(got.code), 550);
  assert.equal(got.error, 'mailbox does not exist');
  assert.ok(got.created_at instanceof Date && !Number.isNaN(got.created_at.getTime()));
  const list = await S.list(env.domain, 'bounces', { limit: 1000 });
  const addrs = list.items.map((x) => x.address);
  assert.ok(addrs.includes(a) && addrs.includes(b), 'both listed');
  await S.destroy(env.domain, 'bounces', a);
  await assert.rejects(S.get(env.domain, 'bounces', a), (err) => err.status === 404);
  assert.equal((await S.get(env.domain, 'bounces', b)).address, b);
});

test('bounces: single add with numeric code', async () => {
  const a = `b3-${uid()}@example.net`;
  await S.create(env.domain, 'bounces', { address: a, code: 421, error: 'later' });
  assert.equal(Number((await S.get(env.domain, 'bounces', a)).code), 421);
});

test('unsubscribes: with tags, list, get, delete', async () => {
  const id = uid();
  const a = `u1-${id}@example.net`;
  const b = `u2-${id}@example.net`;
  await S.create(env.domain, 'unsubscribes', { address: a, tag: `news-${id}` });
  await S.create(env.domain, 'unsubscribes', [{ address: b, tags: ['x', 'y'] }]);
  const ga = await S.get(env.domain, 'unsubscribes', a);
  assert.deepEqual(ga.tags, [`news-${id}`]);
  const gb = await S.get(env.domain, 'unsubscribes', b);
  assert.deepEqual([...gb.tags].sort(), ['x', 'y']);
  const list = await S.list(env.domain, 'unsubscribes', { limit: 1000 });
  assert.ok(list.items.some((x) => x.address === a));
  await S.destroy(env.domain, 'unsubscribes', a);
  await assert.rejects(S.get(env.domain, 'unsubscribes', a), (err) => err.status === 404);
});

test('complaints: add, list, get, delete', async () => {
  const id = uid();
  const a = `c1-${id}@example.net`;
  await S.create(env.domain, 'complaints', [{ address: a }]);
  assert.equal((await S.get(env.domain, 'complaints', a)).address, a);
  const list = await S.list(env.domain, 'complaints', { limit: 1000 });
  assert.ok(list.items.some((x) => x.address === a));
  await S.destroy(env.domain, 'complaints', a);
  await assert.rejects(S.get(env.domain, 'complaints', a), (err) => err.status === 404);
});

test('allowlist (whitelists): add address and domain, list, get, delete', async () => {
  const id = uid();
  const a = `w1-${id}@example.net`;
  const d = `w-${id}.example.net`;
  await S.create(env.domain, 'whitelists', { address: a, reason: 'vip' });
  await S.create(env.domain, 'whitelists', { domain: d, reason: 'partner' });
  const ga = await S.get(env.domain, 'whitelists', a);
  assert.equal(ga.value, a);
  assert.equal(ga.reason, 'vip');
  assert.ok(ga.createdAt instanceof Date && !Number.isNaN(ga.createdAt.getTime()), 'createdAt parsed');
  const gd = await S.get(env.domain, 'whitelists', d);
  assert.equal(gd.value, d);
  assert.equal(gd.reason, 'partner');
  const list = await S.list(env.domain, 'whitelists', { limit: 1000 });
  assert.ok(list.items.some((x) => x.value === a) && list.items.some((x) => x.value === d));
  await S.destroy(env.domain, 'whitelists', a);
  await assert.rejects(S.get(env.domain, 'whitelists', a), (err) => err.status === 404);
});
