'use strict';
// mailgun.js 14: address validation (validate.get) and the newer logs API
// (logs.list), as an application calls them. Validation cases need no DNS:
// a disposable domain and a malformed address are settled before lookups.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { env, client, uid, waitFor } = require('./lib/salvo');

const mg = client();

test('validate.get: disposable and malformed addresses in Mailgun shape', async () => {
  const d = await mg.validate.get('someone@mailinator.com');
  assert.equal(d.address, 'someone@mailinator.com');
  assert.equal(d.result, 'do_not_send');
  assert.equal(d.risk, 'high');
  assert.equal(d.is_disposable_address, true);
  assert.equal(d.is_role_address, false);
  assert.deepEqual(d.reason, ['mailbox_is_disposable_address']);

  const bad = await mg.validate.get('not-an-address');
  assert.equal(bad.result, 'undeliverable');
  assert.equal(bad.is_disposable_address, false);
  assert.ok(bad.reason[0].startsWith('invalid_syntax'), bad.reason.join());
});

test('logs.list: a test-mode send shows up with @timestamp as a Date, paged by token', async () => {
  const id = uid();
  const to = `logs-${id}@example.net`;
  const start = new Date(Date.now() - 60 * 1000);
  await mg.messages.create(env.domain, {
    from: `app@${env.domain}`,
    to,
    subject: 'logs',
    text: 'x',
    'o:testmode': 'yes',
  });
  const query = {
    start,
    events: ['accepted', 'delivered'],
    filter: { AND: [{ attribute: 'recipient', comparator: '=', values: [{ label: to, value: to }] }] },
    pagination: { sort: 'timestamp:asc', limit: 1 },
  };
  let first;
  await waitFor('the accepted and delivered logs', async () => {
    first = await mg.logs.list(query);
    return first.items.length === 1 && first.pagination.next;
  });
  assert.ok(first.start instanceof Date && !Number.isNaN(first.start.getTime()));
  const item = first.items[0];
  assert.equal(item.event, 'accepted');
  assert.equal(item.recipient, to);
  assert.equal(item.domain.name, env.domain);
  assert.ok(item['@timestamp'] instanceof Date && !Number.isNaN(item['@timestamp'].getTime()));

  let second;
  await waitFor('the delivered log on the next page', async () => {
    const pagination = { ...query.pagination, token: first.pagination.next };
    second = await mg.logs.list({ ...query, pagination });
    return second.items.length === 1;
  });
  assert.equal(second.items[0].event, 'delivered');
  assert.equal(second.items[0]['delivery-status'].code, 650);
});
