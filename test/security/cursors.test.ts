import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/lib/global-id';
import type { CustomerOrder, Role } from '../../src/__generated__/resolvers-types';
import { createSeeder } from '../factories/index';
import { startApp, type GqlResponse, type TestApp } from '../helpers/app';

/**
 * Cursors are opaque (issue 18.1): whoever the viewer and whatever the ordering, no cursor carries a
 * value of its customer in a form that decodes (base64, hex); a cursor is valid only for the list,
 * ordering and parent it was issued for.
 */
const ORDERS: CustomerOrder[] = [
  'CREATED_AT_DESC', 'CREATED_AT_ASC', 'NAME_ASC', 'NAME_DESC', 'RELEVANCE', 'TOTAL_SPENT_DESC', 'TOTAL_SPENT_ASC',
  'ORDER_COUNT_DESC', 'ORDER_COUNT_ASC', 'LAST_PURCHASE_DESC', 'LAST_PURCHASE_ASC',
];
const SURNAME = 'Vandermolen';
const PEOPLE = [
  { firstName: 'Aaltje', email: 'aaltje.vdm@example.com', phone: '+14155550141', birthDate: '1981-02-03', ext: 'CRM-AALTJE-1', orders: 3, amount: '12.5000' },
  { firstName: 'Bartholomeus', email: 'bart.vdm@example.org', phone: '+14155550142', birthDate: '1972-11-30', ext: 'CRM-BART-2', orders: 1, amount: '99.9900' },
  { firstName: 'Cornelia', email: 'cornelia.vdm@example.net', phone: '+14155550143', birthDate: '1990-07-14', ext: 'CRM-CORNELIA-3', orders: 0, amount: '0' },
  { firstName: 'Dirkje', email: 'dirkje.vdm@example.com', phone: '+14155550144', birthDate: '2001-05-09', ext: 'CRM-DIRKJE-4', orders: 5, amount: '3.2500' },
];

interface Row { id: string; gid: string; values: string[] }
interface Page { customers: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }
const PAGE = `query($orderBy: [CustomerOrder!], $search: String, $first: Int, $after: String) {
  customers(orderBy: $orderBy, search: $search, first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
const codes = (res: GqlResponse<unknown>) => (res.body.errors ?? []).map((e) => e.extensions?.code);

/** Every way a value could sit in a cursor's bytes: base64(url) decoded as text, and hex of those bytes; the cursor text itself. */
function decodings(cursor: string): string[] {
  const bytes = Buffer.from(cursor, 'base64url');
  return [cursor, bytes.toString('utf8'), bytes.toString('latin1'), bytes.toString('hex'), Buffer.from(cursor, 'hex').toString('latin1')];
}

/** The forms a row's values take: text, ISO and epoch timestamps (s, ms, µs; decimal and hex), the uuid with and without dashes. */
function forms(c: { id: string; createdAt: Date; firstName: string; email: string; phone: string; birthDate: string; ext: string }): string[] {
  const ms = c.createdAt.getTime();
  const us = BigInt(ms) * 1000n;
  return [
    c.firstName, SURNAME, `${c.firstName} ${SURNAME}`, c.email, c.phone, c.phone.slice(2), c.birthDate, c.ext,
    c.createdAt.toISOString(), c.createdAt.toISOString().slice(0, 19), String(ms), String(Math.floor(ms / 1000)), String(us),
    us.toString(16).padStart(16, '0'), ms.toString(16),
    c.id, c.id.replace(/-/g, ''),
  ];
}

describe('opaque cursors', () => {
  let app: TestApp;
  let partnerKey: string;
  const rows = new Map<string, Row>();
  const viewers: [string, { role?: Role; authorization?: string }][] = [];

  beforeAll(async () => {
    app = await startApp();
    const seed = createSeeder(app.db.db);
    for (const [i, p] of PEOPLE.entries()) {
      const builder = seed.customer({
        firstName: p.firstName, lastName: SURNAME, email: p.email, emailNormalized: p.email, phone: p.phone, phoneE164: p.phone, birthDate: p.birthDate,
        createdAt: new Date(Date.UTC(2024, 0, 1 + i, 10, 11, 12, 345)),
      }).withIdentity('crm', p.ext).withConsent('partner_sharing', 'GRANTED').withTransactions(p.orders, { amount: p.amount, amountBase: p.amount, occurredAt: new Date(Date.UTC(2025, 2, 1 + i)) });
      const c = await builder.create();
      const gid = toGlobalId('Customer', c.id);
      rows.set(gid, { id: c.id, gid, values: forms({ ...p, id: c.id, createdAt: c.createdAt }) });
    }
    const created = await app.gql<{ createApiKey: { secret: string } }>(`mutation { createApiKey(input: {
      name: "cursor partner", scopes: ["customers:read", "transactions:read"], purpose: "partner_sharing" }) { secret } }`);
    partnerKey = created.body.data!.createApiKey.secret;
    viewers.push(['ADMIN', { role: 'ADMIN' }], ['AGENT', { role: 'AGENT' }], ['MARKETER', { role: 'MARKETER' }], ['ANALYST', { role: 'ANALYST' }],
      ['a partner key', { authorization: `Bearer ${partnerKey}` }]);
  });
  afterAll(async () => { await app?.close(); });

  const page = (viewer: { role?: Role; authorization?: string }, orderBy: CustomerOrder, first: number, after?: string | null) =>
    app.gql<Page>(PAGE, { orderBy: [orderBy], search: orderBy === 'RELEVANCE' ? SURNAME : null, first, after }, viewer);

  it('sees every seeded customer as every viewer (so the checks below cover them all)', async () => {
    for (const [, viewer] of viewers) {
      const res = await page(viewer, 'NAME_ASC', 100);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.customers.edges.map((e) => e.node.id).sort()).toEqual([...rows.keys()].sort());
    }
  });

  it('no cursor of any viewer and ordering decodes to a value of its customer', async () => {
    let checked = 0;
    for (const [label, viewer] of viewers) {
      for (const orderBy of ORDERS) {
        const res = await page(viewer, orderBy, 100);
        expect(res.body.errors, `${label} ${orderBy}`).toBeUndefined();
        const { edges, pageInfo } = res.body.data!.customers;
        expect(edges).toHaveLength(PEOPLE.length);
        expect(pageInfo.endCursor).toBe(edges.at(-1)!.cursor);
        for (const edge of edges) {
          const row = rows.get(edge.node.id)!;
          const texts = decodings(edge.cursor).map((t) => t.toLowerCase());
          for (const v of row.values) {
            for (const t of texts) expect(t, `${label} ${orderBy}: cursor carries ${v}`).not.toContain(v.toLowerCase());
          }
          checked++;
        }
      }
    }
    expect(checked).toBe(viewers.length * ORDERS.length * PEOPLE.length);
  });

  it('pages through every ordering one customer at a time, as every viewer, in the order of the full list', async () => {
    for (const [label, viewer] of viewers) {
      for (const orderBy of ORDERS) {
        const full = (await page(viewer, orderBy, 100)).body.data!.customers.edges.map((e) => e.node.id);
        const seen: string[] = [];
        let after: string | null = null;
        for (let i = 0; i <= PEOPLE.length; i++) {
          const res: GqlResponse<Page> = await page(viewer, orderBy, 1, after);
          expect(res.body.errors, `${label} ${orderBy}`).toBeUndefined();
          const c = res.body.data!.customers;
          seen.push(...c.edges.map((e) => e.node.id));
          if (!c.pageInfo.hasNextPage) break;
          after = c.pageInfo.endCursor;
        }
        expect(seen, `${label} ${orderBy}`).toEqual(full);
      }
    }
  });

  it('refuses a NAME_ASC cursor under every other ordering with BAD_USER_INPUT (HTTP 400)', async () => {
    const first = await page({ role: 'ADMIN' }, 'NAME_ASC', 1);
    const cursor = first.body.data!.customers.pageInfo.endCursor!;
    expect((await page({ role: 'ADMIN' }, 'NAME_ASC', 1, cursor)).body.errors).toBeUndefined();
    for (const orderBy of ORDERS.filter((o) => o !== 'NAME_ASC')) {
      const res = await page({ role: 'ADMIN' }, orderBy, 1, cursor);
      expect([res.status, codes(res)], orderBy).toEqual([400, ['BAD_USER_INPUT']]);
    }
  });

  it('refuses a cursor under another search or filter', async () => {
    const first = await app.gql<Page>(PAGE, { orderBy: ['NAME_ASC'], first: 1 });
    const cursor = first.body.data!.customers.pageInfo.endCursor!;
    const otherSearch = await app.gql<Page>(PAGE, { orderBy: ['NAME_ASC'], search: SURNAME, first: 1, after: cursor });
    expect(codes(otherSearch)).toEqual(['BAD_USER_INPUT']);
    const otherFilter = await app.gql('query($a: String) { customers(orderBy: [NAME_ASC], filter: { countries: ["US"] }, first: 1, after: $a) { totalCount } }', { a: cursor });
    expect(codes(otherFilter)).toEqual(['BAD_USER_INPUT']);
  });

  it('pages segment members with their own cursors, and refuses a customers cursor there (and a members cursor on customers)', async () => {
    const seg = await app.gql<{ createSegment: { segment: { id: string } } }>('mutation { createSegment(input: { name: "Cursor members", kind: STATIC }) { segment { id } } }');
    const segmentId = seg.body.data!.createSegment.segment.id;
    const add = await app.gql<{ addSegmentMembers: { changed: number } }>('mutation($s: ID!, $c: [ID!]!) { addSegmentMembers(segmentId: $s, customerIds: $c) { changed } }', { s: segmentId, c: [...rows.keys()] });
    expect(add.body.data!.addSegmentMembers.changed).toBe(PEOPLE.length);
    type Members = { segment: { members: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } };
    const MEMBERS = 'query($s: ID!, $a: String) { segment(id: $s) { members(orderBy: [NAME_ASC], first: 2, after: $a) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }';
    const one = await app.gql<Members>(MEMBERS, { s: segmentId });
    const two = await app.gql<Members>(MEMBERS, { s: segmentId, a: one.body.data!.segment.members.pageInfo.endCursor });
    expect(two.body.errors).toBeUndefined();
    const paged = [...one.body.data!.segment.members.edges, ...two.body.data!.segment.members.edges].map((e) => e.node.id);
    expect(new Set(paged).size).toBe(PEOPLE.length);
    const customersCursor = (await page({ role: 'ADMIN' }, 'NAME_ASC', 2)).body.data!.customers.pageInfo.endCursor;
    const onMembers = await app.gql(MEMBERS, { s: segmentId, a: customersCursor });
    expect(onMembers.body.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['segment.members', 'BAD_USER_INPUT']]);
    const onCustomers = await page({ role: 'ADMIN' }, 'NAME_ASC', 2, one.body.data!.segment.members.pageInfo.endCursor);
    expect(codes(onCustomers)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a customers cursor on Customer.transactions, and the transactions cursor of one customer on another', async () => {
    const [a, b] = [...rows.values()].filter((_, i) => PEOPLE[i]!.orders > 0);
    const list = await page({ role: 'ADMIN' }, 'CREATED_AT_DESC', 1);
    const customersCursor = list.body.data!.customers.pageInfo.endCursor!;
    const TX = 'query($id: ID!, $a: String) { customer(id: $id) { displayName transactions(first: 1, after: $a) { edges { cursor } } } }';
    const onTx = await app.gql<{ customer: { displayName: string; transactions: unknown } }>(TX, { id: a!.gid, a: customersCursor });
    expect(onTx.body.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['customer.transactions', 'BAD_USER_INPUT']]);
    expect(onTx.body.data).toEqual({ customer: { displayName: `Aaltje ${SURNAME}`, transactions: null } });

    const own = await app.gql<{ customer: { transactions: { edges: { cursor: string }[] } } }>(TX, { id: a!.gid, a: null });
    const txCursor = own.body.data!.customer.transactions.edges[0]!.cursor;
    expect((await app.gql(TX, { id: a!.gid, a: txCursor })).body.errors).toBeUndefined();
    const other = await app.gql(TX, { id: b!.gid, a: txCursor });
    expect(codes(other)).toEqual(['BAD_USER_INPUT']);
    // The customer's transaction ids and dates are not in its cursor either.
    const ids = await app.gql<{ customer: { transactions: { edges: { cursor: string; node: { id: string; occurredAt: string } }[] } } }>(
      'query($id: ID!) { customer(id: $id) { transactions { edges { cursor node { id occurredAt } } } } }', { id: a!.gid });
    const edges = ids.body.data!.customer.transactions.edges;
    expect(edges.length).toBeGreaterThan(0);
    for (const e of edges) {
      const rawId = Buffer.from(e.node.id, 'base64url').toString().split(':')[1]!;
      for (const t of decodings(e.cursor)) {
        for (const v of [rawId, rawId.replace(/-/g, ''), e.node.occurredAt.slice(0, 19), String(Date.parse(e.node.occurredAt))]) expect(t).not.toContain(v);
      }
    }
  });

  it('keeps cursors stable under inserts: the next page starts after the cursor row', async () => {
    const first = await page({ role: 'ADMIN' }, 'NAME_ASC', 2);
    const seed = createSeeder(app.db.db);
    // Sorts before every seeded name: would shift an offset, not a keyset position.
    const early = await seed.customer({ firstName: 'Aa', lastName: 'Aardvark' }).create();
    const next = await page({ role: 'ADMIN' }, 'NAME_ASC', 2, first.body.data!.customers.pageInfo.endCursor);
    const names = [...rows.keys()];
    const full = (await page({ role: 'ADMIN' }, 'NAME_ASC', 100)).body.data!.customers.edges.map((e) => e.node.id).filter((id) => names.includes(id));
    expect(next.body.data!.customers.edges.map((e) => e.node.id)).toEqual(full.slice(2, 4));
    expect(next.body.data!.customers.edges.map((e) => e.node.id)).not.toContain(toGlobalId('Customer', early.id));
  });
});
