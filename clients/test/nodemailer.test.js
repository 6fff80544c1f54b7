'use strict';
// nodemailer: through nodemailer-mailgun-transport 2.1.5 (HTTP API, with
// the mailgun.js 8 it depends on), and through Salvo's SMTP relay with
// STARTTLS, AUTH and nodemailer's default header encoding.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const nodemailer = require('nodemailer');
const mgTransport = require('nodemailer-mailgun-transport');
const { env, client, uid, waitSink, header, decoded, waitEvents } = require('./lib/salvo');

const mg = client();

test('nodemailer-mailgun-transport: text, html, attachment, inline image, reply-to, h:/v:/o: keys', async () => {
  const id = uid();
  const to = `nm-${id}@example.net`;
  const transporter = nodemailer.createTransport(
    mgTransport({ auth: { api_key: env.key, domain: env.domain }, url: env.url }),
  );
  const info = await transporter.sendMail({
    from: `"Shop" <shop@${env.domain}>`,
    to: `"Nina" <${to}>`,
    replyTo: `help@${env.domain}`,
    subject: `order ${id}`,
    text: `text ${id}`,
    html: `<p>html ${id}</p><img src="cid:logo.png">`,
    attachments: [
      { filename: 'invoice.txt', content: `invoice ${id}` },
      { cid: 'logo.png', content: Buffer.from('not really a png'), contentType: 'image/png' },
    ],
    'h:X-Shop': 'yes',
    'v:order': id,
    'o:tag': `nm-${id}`,
  });
  assert.match(info.messageId, /^<[^<>]+@[^<>]+>$/);
  const [msg] = await waitSink(to);
  assert.equal(header(msg.data, 'Subject'), `order ${id}`);
  assert.equal(header(msg.data, 'Reply-To'), `help@${env.domain}`);
  assert.equal(header(msg.data, 'X-Shop'), 'yes');
  assert.match(msg.data, /filename="?invoice\.txt"?/);
  assert.match(msg.data, /Content-Id: <logo\.png>/i);
  assert.ok(decoded(msg.data).includes(`html ${id}`) && decoded(msg.data).includes(`text ${id}`));
  const [ev] = await waitEvents(mg, env.domain, { event: 'delivered', tags: `nm-${id}` }, 1);
  assert.equal(ev.recipient, to);
  assert.equal(ev['user-variables'].order, id);
});

test("SMTP relay: STARTTLS, AUTH, X-Mailgun-Variables JSON in nodemailer's default (RFC 2047) encoding", async () => {
  const id = uid();
  const to = `smtp-${id}@example.net`;
  const [host, port] = env.smtpAddr.split(':');
  const mail = {
    from: `app@${env.domain}`,
    to,
    subject: `relay ${id}`,
    text: `over smtp ${id}`,
    headers: {
      'X-Mailgun-Variables': JSON.stringify({ src: 'smtp', id }),
      'X-Mailgun-Tag': `smtp-${id}`,
    },
  };
  // What nodemailer puts on the wire for that header: an encoded word.
  const preview = await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail(mail);
  assert.match(
    header(preview.message.toString(), 'X-Mailgun-Variables'),
    /^=\?UTF-8\?Q\?/,
    'nodemailer encodes the JSON header',
  );

  const transporter = nodemailer.createTransport({
    host,
    port: Number(port),
    secure: false,
    requireTLS: true,
    auth: { user: env.smtpUser, pass: env.smtpPass },
    tls: { rejectUnauthorized: false }, // Salvo's test listener has a self-signed certificate
  });
  const info = await transporter.sendMail(mail);
  assert.match(info.response, /^250 /);
  assert.deepEqual(info.accepted, [to]);
  const [msg] = await waitSink(to);
  assert.equal(
    header(msg.data, 'X-Mailgun-Variables'),
    undefined,
    'X-Mailgun-* headers are removed before delivery',
  );
  assert.ok(decoded(msg.data).includes(`over smtp ${id}`));
  const [ev] = await waitEvents(mg, env.domain, { event: 'delivered', recipient: to }, 1);
  assert.deepEqual(ev['user-variables'], { src: 'smtp', id });
  assert.deepEqual(ev.tags, [`smtp-${id}`]);
  assert.equal(ev.envelope.transport, 'smtp');
});

test('SMTP relay: implicit TLS (nodemailer secure: true, as on port 465), AUTH LOGIN', async () => {
  const id = uid();
  const to = `smtps-${id}@example.net`;
  const [host, port] = env.smtpsAddr.split(':');
  const transporter = nodemailer.createTransport({
    host,
    port: Number(port),
    secure: true,
    authMethod: 'LOGIN',
    auth: { user: env.smtpUser, pass: env.smtpPass },
    tls: { rejectUnauthorized: false },
  });
  const info = await transporter.sendMail({
    from: `app@${env.domain}`,
    to,
    subject: `smtps ${id}`,
    text: `tls ${id}`,
  });
  assert.match(info.response, /^250 /);
  const [msg] = await waitSink(to);
  assert.equal(header(msg.data, 'Subject'), `smtps ${id}`);
  const [ev] = await waitEvents(mg, env.domain, { event: 'delivered', recipient: to }, 1);
  assert.equal(ev.envelope.transport, 'smtp');
});
