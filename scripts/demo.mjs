// The guided tour: run against ./run.sh's app. Every step prints what it does; every webhook the local
// receiver gets is verified (Standard Webhooks signature) before it is shown.
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.THREEPL_URL ?? 'http://127.0.0.1:7071';
const adminKey = process.env.THREEPL_ADMIN_KEY ?? 'dev-admin-key-change-me';
const mailDir = process.env.THREEPL_MAIL_DIR ?? '.data/mail';
const run = Date.now().toString(36);

const step = (n, text) => console.log(`\n\x1b[1m${n}. ${text}\x1b[0m`);
const show = (label, value) => console.log(`   ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(method, path, key, body, headers = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const json = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return json;
}

async function eventually(what, probe, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(250);
  }
}

// The receiver: verifies every delivery with the connection's secret before printing it.
let secret = null;
const received = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const id = req.headers['webhook-id'];
    const timestamp = req.headers['webhook-timestamp'];
    const expected = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${body}`).digest();
    const verified = (req.headers['webhook-signature'] ?? '').split(' ').some((s) => {
      const candidate = Buffer.from(s.split(',')[1] ?? '', 'base64');
      return candidate.length === expected.length && timingSafeEqual(candidate, expected);
    });
    const event = JSON.parse(body);
    received.push({ id, verified, event });
    console.log(`   \x1b[36m⇢ webhook ${verified ? '✔ verified' : '✘ NOT VERIFIED'}\x1b[0m ${event.type} id=${id} order=${event.data.id ?? ''} status=${event.data.status ?? ''} version=${event.data.version ?? ''}`);
    res.writeHead(verified ? 204 : 401).end();
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

try {
  step(1, `Is the app up at ${base}?`);
  try {
    show('healthz', await api('GET', '/healthz'));
  } catch {
    throw new Error(`No app at ${base}: start it with ./run.sh in another terminal first.`);
  }

  step(2, 'The operator creates a 3PL and a merchant (each gets a first API key, shown once)');
  const threePl = await api('POST', '/v1/admin/accounts', adminKey, { kind: 'threepl', name: 'Fast Fulfilment', email: `ops-${run}@fastfulfil.example` });
  const merchant = await api('POST', '/v1/admin/accounts', adminKey, { kind: 'merchant', name: 'Happy Socks', email: `owner-${run}@happysocks.example` });
  show('3PL', `${threePl.id} (${threePl.email})`);
  show('merchant', `${merchant.id} (${merchant.email})`);

  step(3, 'The 3PL invites the merchant by e-mail');
  const invited = await api('POST', '/v1/connections', threePl.apiKey, { email: merchant.email, clientName: 'Happy Socks', companyName: 'Fast Fulfilment' });
  show('connection', `${invited.id} status=${invited.status} expiresAt=${invited.expiresAt}`);

  step(4, `The invitation e-mail arrives (pickup folder ${mailDir})`);
  const mail = await eventually('the invitation e-mail', () => {
    const files = readdirSync(mailDir).filter((f) => f.endsWith('.eml')).map((f) => join(mailDir, f));
    files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    return files.map((f) => readFileSync(f, 'latin1')).find((m) => m.includes(`To: ${merchant.email}`));
  });
  const text = Buffer.from(/Content-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(mail)[1].replace(/\r\n/g, ''), 'base64').toString('utf8');
  const link = /https?:\/\/\S+\/connect\/\S+/.exec(text)[0];
  show('subject', Buffer.from(/Subject: =\?utf-8\?B\?([^?]*)\?=/.exec(mail)[1], 'base64').toString('utf8'));
  show('approval link', link);

  step(5, 'The merchant opens the link (the page changes nothing) and approves with "I understand…" ticked');
  const path = new URL(link).pathname;
  const page = await (await fetch(base + path)).text();
  show('page says', /<p><strong>.*?<\/p>/.exec(page)[0].replace(/<[^>]+>/g, ''));
  const decided = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=approve&understood=on' });
  show('result page', `${decided.status} ${/<h1>(.*?)<\/h1>/.exec(await decided.text())[1]}`);
  show('connection', (await api('GET', `/v1/connections/${invited.id}`, merchant.apiKey)).status);
  // The connection's Durable workflow hears of the decision and follows it up (the 3PL gets an "approved" e-mail).
  const workflow = await eventually('the workflow to follow the approval up', async () => {
    const w = await api('GET', `/v1/admin/connections/${invited.id}/workflow`, adminKey);
    return w.runtimeStatus === 'completed' ? w : null;
  });
  show('workflow (operator view)', `${workflow.runtimeStatus}, step ${workflow.step}, outcome ${workflow.output}`);

  step(6, `The 3PL points this client's webhook at a local receiver (${hookUrl})`);
  const settings = await api('PATCH', `/v1/connections/${invited.id}/settings`, threePl.apiKey, { webhookUrl: hookUrl, internalCustomerId: 'CUST-42' });
  secret = settings.webhookSecret;
  show('settings version', settings.version);
  show('signing secret (shown once)', `${secret.slice(0, 12)}…`);

  step(7, 'The merchant submits four orders; routing hands them to the 3PL');
  const orders = [];
  for (const n of [1, 2, 3, 4]) {
    const order = await api('POST', '/v1/orders', merchant.apiKey, {
      externalId: `demo-${run}-${n}`,
      lines: [{ sku: `SOCK-${n}`, quantity: n, name: `Socks #${n}` }],
      shipTo: { name: 'Ada Lovelace', line1: 'Main St 1', city: 'Berlin', postalCode: '10115', countryCode: 'DE' },
      notes: n === 1 ? 'Gift wrap, please' : undefined,
    });
    orders.push(order);
    show(`order ${n}`, `${order.id} status=${order.status}`);
  }
  await eventually('routing', async () => (await Promise.all(orders.map((o) => api('GET', `/v1/orders/${o.id}`, merchant.apiKey)))).every((o) => o.status === 'awaiting_shipment'));
  const seen = await api('GET', '/v1/orders?status=awaiting_shipment', threePl.apiKey);
  show('3PL sees awaiting shipment', seen.items.filter((o) => orders.some((x) => x.id === o.id)).map((o) => `${o.externalId} (internalCustomerId ${o.internalCustomerId}, notes "${o.notes ?? ''}")`));

  step(8, 'The 3PL accepts order 1, starts and ships it (the merchant is notified, the order fee is billed)');
  const accepted = await api('POST', `/v1/orders/${orders[0].id}/accept`, threePl.apiKey);
  show('order 1 request', `${accepted.fulfillmentRequest.status} at ${accepted.fulfillmentRequest.acceptedAt}`);
  await api('POST', `/v1/orders/${orders[0].id}/start`, threePl.apiKey);
  const shipped = await api('POST', `/v1/orders/${orders[0].id}/ship`, threePl.apiKey, { carrier: 'DHL', service: 'Paket', trackingNumber: `00340434${run}` });
  show('order 1', `${shipped.status}, ${shipped.shipment.carrier} ${shipped.shipment.trackingNumber}`);

  step(9, 'Order 3 (3 units): the merchant holds it, releases it, and the 3PL ships 1 unit now and 2 later');
  const hold = await api('POST', `/v1/orders/${orders[2].id}/holds`, merchant.apiKey, { reason: 'awaiting_payment', note: 'Card declined, retrying' });
  show('hold', `${hold.id} ${hold.reason} placed by ${hold.placedBy}`);
  const blocked = await fetch(`${base}/v1/orders/${orders[2].id}/ship`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${threePl.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ carrier: 'DHL', service: 'Paket', trackingNumber: `HELD${run}` }),
  });
  show('shipping while held', `${blocked.status} ${(await blocked.json()).code}`);
  await api('POST', `/v1/orders/${orders[2].id}/holds/${hold.id}/release`, merchant.apiKey);
  const sku = orders[2].lines[0].sku;
  const first = await api('POST', `/v1/orders/${orders[2].id}/ship`, threePl.apiKey, { carrier: 'DHL', service: 'Paket', trackingNumber: `SPLIT1${run}`, lines: [{ sku, quantity: 1 }] });
  show('after the first parcel', `${first.status}, ${first.lines[0].quantityShipped} of ${first.lines[0].quantity} shipped`);
  const again = await api('POST', `/v1/orders/${orders[2].id}/ship`, threePl.apiKey, { carrier: 'DHL', service: 'Paket', trackingNumber: `SPLIT1${run}`, lines: [{ sku, quantity: 1 }] });
  show('the same parcel sent again', `${again.shipments.length} shipment, version ${again.version} (unchanged)`);
  const rest = await api('POST', `/v1/orders/${orders[2].id}/ship`, threePl.apiKey, { carrier: 'UPS', service: 'Standard', trackingNumber: `SPLIT2${run}` });
  show('after the second parcel', `${rest.status}, shipments ${rest.shipments.map((x) => `${x.trackingNumber}×${x.lines[0].quantity}`).join(', ')}`);

  step(10, 'The 3PL rejects order 4: it goes back to the merchant with the reason (no other 3PL to route it to)');
  const rejected = await api('POST', `/v1/orders/${orders[3].id}/reject`, threePl.apiKey, {
    reason: 'inventory_out_of_stock', message: 'Back in March', lines: [{ sku: orders[3].lines[0].sku, message: 'sold out' }],
  });
  const rejection = rejected.rejections[0];
  show('order 4', `${rejected.status} connection=${rejected.connectionId}, rejected: ${rejection.reason} "${rejection.message}"`);

  step(11, 'The merchant disconnects: the unstarted order 2 comes back to it, the shipped ones stay');
  await api('POST', `/v1/connections/${invited.id}/disconnect`, merchant.apiKey);
  await eventually('the hand-back', async () => {
    const state = await api('GET', `/v1/orders/${orders[1].id}`, merchant.apiKey);
    return state.status === 'open' && state.connectionId === null;
  });
  for (const o of orders) {
    const now = await api('GET', `/v1/orders/${o.id}`, merchant.apiKey);
    show(o.externalId, `${now.status} connection=${now.connectionId}`);
  }

  step(12, 'Every webhook the 3PL received for this client');
  await eventually('the hand-back webhook', () => received.filter((r) => r.event.type === 'order.handed_back').length >= 1, 30000);
  await sleep(500);
  const bad = received.filter((r) => !r.verified);
  show('received', `${received.length} webhooks, ${received.length - bad.length} verified`);
  const types = received.reduce((acc, r) => ({ ...acc, [r.event.type]: (acc[r.event.type] ?? 0) + 1 }), {});
  show('by type', types);
  if (bad.length > 0) throw new Error('Some webhooks did not verify.');

  step(13, 'The audit trail of the connection, newest first');
  const audit = await api('GET', `/v1/audit-events?connectionId=${invited.id}&limit=20`, threePl.apiKey);
  for (const e of audit.items.slice(0, 8)) console.log(`   ${e.at}  ${e.summary}`);
  console.log('\nDone. Everything above ran against your local app; its data stays in .data/ (delete it to start over).');
} finally {
  receiver.close();
}
