'use strict';
// Shared helpers of the client suite: the Salvo under test (from the
// environment internal/e2e/clients_node_test.go sets), a mailgun.js client
// for it, the sink (what the fake MX received) and polling.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const FormData = require('form-data');
const Mailgun = require('mailgun.js');

// mailgun.js (10.4 and 14) warns on every call of a method Mailgun has
// deprecated (events.get in favour of logs, domains.domainTags in favour of
// the account-level tags API); Ghost and this suite call them on purpose, as
// Salvo serves them. Those notices are dropped so failures stay readable;
// every other warning is kept.
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('method is deprecated')) return;
  warn(...args);
};

function need(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run this suite through go test -run TestClientsNode ./internal/e2e`);
  }
  return v;
}

const env = {
  url: need('SALVO_URL'),
  key: need('SALVO_API_KEY'),
  domain: need('SALVO_DOMAIN'),
  smtpAddr: need('SALVO_SMTP_ADDR'),
  smtpsAddr: need('SALVO_SMTPS_ADDR'),
  smtpUser: need('SALVO_SMTP_USER'),
  smtpPass: need('SALVO_SMTP_PASS'),
  mxAddr: need('SALVO_MX_ADDR'),
  sinkURL: need('SALVO_SINK_URL'),
};

// client is a mailgun.js client for Salvo, built as its README says (only
// the url differs from a Mailgun setup).
function client() {
  const mailgun = new Mailgun(FormData);
  return mailgun.client({ username: 'api', key: env.key, url: env.url });
}

// uid is a short unique token for addresses and tags of one test.
function uid() {
  return crypto.randomBytes(5).toString('hex');
}

async function getJSON(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}: ${res.status}`);
  return res.json();
}

// waitFor polls f (async) until it returns a truthy value, and returns it.
async function waitFor(what, f, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await f();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// sinkMessages returns the messages the fake MX received for rcpt.
async function sinkMessages(rcpt) {
  return getJSON(`${env.sinkURL}/messages?rcpt=${encodeURIComponent(rcpt)}`);
}

// waitSink waits until the fake MX received n messages for rcpt.
async function waitSink(rcpt, n = 1, timeoutMs = 30000) {
  return waitFor(
    `${n} message(s) for ${rcpt} at the sink`,
    async () => {
      const msgs = await sinkMessages(rcpt);
      return msgs.length >= n ? msgs : null;
    },
    timeoutMs,
  );
}

// header returns the unfolded value of the first header name in raw.
function header(raw, name) {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const re = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im');
  const m = head.match(re);
  return m ? m[1] : undefined;
}

// decoded is raw with quoted-printable encoding (RFC 2045 §6.7) undone,
// for looking for text in bodies whatever their transfer encoding.
function decoded(raw) {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

// getTracked requests a tracking URL Salvo put in a message (its host is the
// domain's tracking host, which does not resolve here) from Salvo's own
// listener, with that host in the Host header. Redirects are not followed;
// it resolves to the status code.
function getTracked(u) {
  const target = new URL(u);
  const salvo = new URL(env.url);
  const opts = {
    host: salvo.hostname,
    port: salvo.port,
    path: target.pathname + target.search,
    headers: { host: target.host },
  };
  return new Promise((resolve, reject) => {
    http
      .get(opts, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });
}

// waitEvents waits until the events matching query number at least n.
async function waitEvents(mg, domain, query, n, timeoutMs = 30000) {
  return waitFor(
    `${n} event(s) ${JSON.stringify(query)}`,
    async () => {
      const items = (await mg.events.get(domain, { limit: 300, ...query })).items;
      return items.length >= n ? items : null;
    },
    timeoutMs,
  );
}

module.exports = {
  env,
  client,
  uid,
  getJSON,
  waitFor,
  sinkMessages,
  waitSink,
  header,
  decoded,
  waitEvents,
  getTracked,
};
