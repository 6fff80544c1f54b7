'use strict';
// Ghost 6.65.0's own Mailgun modules, required unchanged from the `ghost`
// npm package that clients/setup.sh unpacks into ghost/dist/package:
//   core/server/services/email-service/mailgun-email-provider.js (newsletter batches)
//   core/server/services/lib/mailgun-client.js (mailgun.js 10.4.0, as Ghost pins it)
//   core/server/services/email-analytics/fetch-mailgun-events.js (the analytics fetcher)
// Their requires resolve to ghost/node_modules (Ghost's pinned versions).
// Ghost's `config` and `settings` objects are the only stand-ins: config
// answers from Ghost's own core/shared/config/defaults.json, settings holds
// what an admin enters for Mailgun (API key, domain, base URL).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const nodemailer = require('nodemailer');
const {
  env,
  client,
  uid,
  waitSink,
  header,
  decoded,
  waitFor,
  waitEvents,
  getTracked,
} = require('./lib/salvo');

const ghost = path.join(__dirname, '..', 'ghost', 'dist', 'package');
const services = path.join(ghost, 'core', 'server', 'services');
const MailgunClient = require(path.join(services, 'lib', 'mailgun-client'));
const MailgunEmailProvider = require(path.join(services, 'email-service', 'mailgun-email-provider'));
const { fetchMailgunEvents } = require(path.join(services, 'email-analytics', 'fetch-mailgun-events'));
const defaults = require(path.join(ghost, 'core', 'shared', 'config', 'defaults.json'));

// Ghost's modules must get the packages Ghost pins, not the suite's own.
test("Ghost's modules resolve mailgun.js 10.4.0 from ghost/node_modules", () => {
  const found = require.resolve('mailgun.js/package.json', { paths: [path.join(services, 'lib')] });
  assert.equal(found, path.join(__dirname, '..', 'ghost', 'node_modules', 'mailgun.js', 'package.json'));
  assert.equal(require(found).version, '10.4.0');
});

const MEMBERS = 1000;
const mg = client();

// ghostConfig answers get('a:b:c') like Ghost's nconf config, from Ghost's defaults.
const ghostConfig = {
  get(key) {
    return key.split(':').reduce((v, k) => (v == null ? undefined : v[k]), defaults);
  },
};

function ghostSettings(domain) {
  const values = { mailgun_api_key: env.key, mailgun_domain: domain, mailgun_base_url: `${env.url}/v3` };
  return { get: (key) => values[key] };
}

// Replacement definitions as Ghost's email renderer makes them (subset).
const definitions = ['uuid', 'name', 'unsubscribe_url', 'list_unsubscribe', 'key'].map((id) => ({
  id,
  token: new RegExp(`%%\\{${id}\\}%%`, 'g'),
  trusted: id !== 'name',
}));

function member(i, id, email = `member${String(i).padStart(4, '0')}-${id}@example.com`) {
  const uuid = `uuid-${i}-${id}`;
  const unsub = `https://blog.example.com/unsubscribe/?uuid=${uuid}&newsletter=weekly`;
  const values = {
    uuid,
    name: `Member <${i}>`,
    unsubscribe_url: unsub,
    list_unsubscribe: `${unsub}&key=k${i}`,
    key: `k${i}`,
  };
  return {
    n: i,
    email,
    uuid,
    values,
    replacements: definitions.map((d) => ({ id: d.id, token: d.token, value: values[d.id] })),
  };
}

test("Ghost: a 1,000-member newsletter through Ghost's provider, then analytics polled to completion", async (t) => {
  const id = uid();
  const domain = `ghost-${id}.example.com`;
  await mg.domains.create({ name: domain });
  const settings = ghostSettings(domain);
  const mailgunClient = new MailgunClient({ config: ghostConfig, settings });
  const provider = new MailgunEmailProvider({ mailgunClient, config: ghostConfig });
  const members = Array.from({ length: MEMBERS }, (_, i) => member(i + 1, id));
  // One more member whose address the MX refuses (550 5.1.1): 1,001 recipients,
  // so Ghost's batching makes two batches.
  const refused = member(MEMBERS + 1, id, `p550-refused-${id}@example.com`);
  const audience = [...members, refused];
  const emailId = `email${id}`;
  const begin = new Date(Date.now() - 5000);

  // Ghost's batch sending service splits the audience by the provider's maximum.
  const size = provider.getMaximumRecipients();
  assert.equal(size, 1000);
  let batches = 0;
  for (let at = 0; at < audience.length; at += size) {
    batches++;
    const res = await provider.send(
      {
        subject: `Weekly ${id}`,
        html: '<html><body><p>Hello %%{name}%%</p><p><a href="%%{unsubscribe_url}%%">Unsubscribe</a></p></body></html>',
        plaintext: 'Hello %%{name}%%\nUnsubscribe: %%{unsubscribe_url}%%',
        from: `"My Blog" <noreply@${domain}>`,
        replyTo: `editor@${domain}`,
        emailId,
        recipients: audience.slice(at, at + size),
        replacementDefinitions: definitions,
      },
      { openTrackingEnabled: true, clickTrackingEnabled: false },
    );
    assert.match(res.id, /^[^<>]+@[^<>]+$/, 'Ghost stores the Mailgun id without brackets');
  }
  assert.equal(batches, 2);

  // Every member gets one personalised copy.
  await waitFor(
    '1,000 deliveries at the sink',
    async () => {
      const c = await (await fetch(`${env.sinkURL}/count?suffix=-${id}@example.com`)).json();
      return c.recipients >= MEMBERS;
    },
    120000,
  );

  await t.test("each copy is personalised, with Ghost's List-Unsubscribe filled in", async () => {
    for (const m of [members[0], members[499], members[999]]) {
      const [copy] = await waitSink(m.email, 1, 120000);
      assert.equal(header(copy.data, 'Subject'), `Weekly ${id}`);
      const body = decoded(copy.data);
      assert.ok(body.includes(`Hello Member &lt;${m.n}&gt;`), 'the name, HTML-escaped, in the html part');
      assert.ok(
        body.includes(`Hello Member <${m.n}>\r\nUnsubscribe: ${m.values.unsubscribe_url}`),
        'the text part',
      );
      const lu = header(copy.data, 'List-Unsubscribe');
      assert.ok(lu.includes(`<${m.values.list_unsubscribe}>`), `own list_unsubscribe in ${lu}`);
      assert.doesNotMatch(lu, /%[a-z_.]+%/, 'every variable substituted');
      assert.match(lu, /<mailto:[^<>@\s]+@[^<>\s]+>/, 'the tag unsubscribe address is a mailto:');
      assert.equal(header(copy.data, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
      assert.equal(header(copy.data, 'Auto-Submitted'), 'auto-generated');
    }
  });

  await t.test(
    "mail to the tag unsubscribe address unsubscribes the member from the newsletter's tags",
    async () => {
      const m = members[3];
      const [copy] = await waitSink(m.email, 1, 120000);
      const mailto = (header(copy.data, 'List-Unsubscribe') || '').match(/<mailto:([^<>?\s]+)[^<>]*>/);
      assert.ok(mailto, 'a mailto: in List-Unsubscribe');
      const [host, port] = env.mxAddr.split(':');
      const mx = nodemailer.createTransport({
        host,
        port: Number(port),
        secure: false,
        tls: { rejectUnauthorized: false },
      });
      const info = await mx.sendMail({
        envelope: { from: m.email, to: mailto[1] },
        from: m.email,
        to: mailto[1],
        subject: 'unsubscribe',
        text: 'unsubscribe',
      });
      assert.match(info.response, /^250 /);
      const unsub = await waitFor('the unsubscribe', async () => {
        try {
          return await mg.suppressions.get(domain, 'unsubscribes', m.email);
        } catch (err) {
          if (err.status === 404) return null;
          throw err;
        }
      });
      assert.ok(
        unsub.tags.length > 0 && unsub.tags.every((tag) => ['ghost-email', 'bulk-email'].includes(tag)),
        `unsubscribed from the message's tags only, got ${JSON.stringify(unsub.tags)}`,
      );
    },
  );

  // One member opens the newsletter (fetches its pixel).
  const opener = members[7];
  await t.test('a member opens the newsletter', async () => {
    const [copy] = await waitSink(opener.email, 1, 120000);
    const pixel = decoded(copy.data).match(/<img[^>]+src="([^"]+)"/);
    assert.ok(pixel, 'an open-tracking pixel');
    assert.equal(await getTracked(pixel[1].replace(/&amp;/g, '&')), 200);
  });

  // Ghost's analytics job: fetch pages (300 events, options repeated on every
  // page URL) until every delivery of this email has been seen.
  const seen = new Map();
  const batchHandler = async (events) => {
    for (const e of events) seen.set(e.id, e);
  };
  const delivered = () => [...seen.values()].filter((e) => e.type === 'delivered' && e.emailId === emailId);
  await t.test("Ghost's analytics fetcher sees every delivery, the refusal and the open", async () => {
    await waitFor(
      'Ghost analytics to see 1,000 deliveries',
      async () => {
        await fetchMailgunEvents({
          config: ghostConfig,
          settings,
          tags: ['bulk-email'],
          batchHandler,
          begin,
          end: new Date(),
        });
        return delivered().length >= MEMBERS;
      },
      180000,
    );
    const d = delivered();
    assert.equal(d.length, MEMBERS);
    assert.equal(new Set(d.map((e) => e.recipientEmail)).size, MEMBERS, 'each member once');
    assert.ok(
      d.every((e) => typeof e.providerId === 'string' && e.providerId.length > 0),
      'provider ids',
    );
    const failed = [...seen.values()].filter((e) => e.type === 'failed' && e.emailId === emailId);
    assert.equal(failed.length, 1, 'one failure');
    assert.equal(failed[0].recipientEmail, refused.email);
    assert.equal(failed[0].severity, 'permanent');
    assert.equal(failed[0].error.code, 550);
    assert.equal(failed[0].error.enhancedCode, '5.1.1');

    await waitFor(
      'the open in Ghost analytics',
      async () => {
        await fetchMailgunEvents({
          config: ghostConfig,
          settings,
          tags: ['bulk-email'],
          batchHandler,
          begin,
          end: new Date(),
        });
        return [...seen.values()].some((e) => e.type === 'opened' && e.recipientEmail === opener.email);
      },
      30000,
    );
  });

  await t.test("Ghost's MailgunClient removes the refused member's bounce", async () => {
    const bounce = await mg.suppressions.get(domain, 'bounces', refused.email);
    assert.equal(Number(bounce.code), 550);
    assert.equal(await mailgunClient.removeBounce(refused.email), true);
    await assert.rejects(mg.suppressions.get(domain, 'bounces', refused.email), (err) => err.status === 404);
  });

  // The opened event shows the opener's own copy, not the whole batch.
  await t.test("the opened event carries the opener's own copy headers", async () => {
    const [opened] = await waitEvents(mg, domain, { event: 'opened' }, 1);
    assert.equal(opened.recipient, opener.email);
    assert.ok(opened.message.headers.to.includes(opener.email));
    assert.ok(
      !opened.message.headers.to.includes(members[0].email),
      "no other member in the opened event's To",
    );
    assert.ok(JSON.stringify(opened).length < 8000, `opened event is ${JSON.stringify(opened).length} bytes`);
  });
});
