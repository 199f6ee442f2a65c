import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execRows } from '../../../src/db/client';
import { blindIndex, decryptField } from '../../../src/lib/crypto';
import { toGlobalId } from '../../../src/lib/global-id';
import { customerTables } from '../../../src/modules/ingest/merge.repository';
import { mergeCustomers, toMergeId, unmergeCustomers } from '../../../src/modules/ingest/merge.service';
import { createSeeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';
import { dumpAll, fixture, importFile, resetCustomerData } from './helpers';

let app: TestApp;
beforeAll(async () => { app = await startApp(); }, 300_000);
afterAll(async () => { await app.close(); });
beforeEach(async () => { await resetCustomerData(app.db.db); });

const gid = (id: string) => toGlobalId('Customer', id);

/** Two records of one person with rows in every related table (tags overlap on purpose). */
async function twoDuplicates() {
  const seed = createSeeder(app.db.db);
  const a = await seed.customer({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', emailNormalized: 'ada@example.com', city: 'London' })
    .withIdentity('crm', 'A-1').withTransactions(2).withInteractions(1).withTag('vip').withTag('segment_a', 'x').withConsent('marketing_email', 'GRANTED').create();
  const b = await seed.customer({ firstName: 'Ada', lastName: 'L.', email: 'ADA@example.com', emailNormalized: 'ada@example.com', phoneE164: '+14155550132', phone: '+14155550132' })
    .withIdentity('shop', 'B-1').withTransactions(3, { items: [{ sku: 'S', quantity: 2, unitPrice: '5.0000' }] }).withInteractions(2).withTag('vip').withConsent('marketing_email', 'DENIED').create();
  await app.db.db.execute(sql`INSERT INTO audit_log (actor_kind, actor_id, role, action, customer_id, fields, request_id)
    VALUES ('user', 'u1', 'ADMIN', 'READ', ${b.id}::uuid, '{Customer.email}', 'r1')`);
  await app.db.db.execute(sql`INSERT INTO customer_field_sources (customer_id, field, source, updated_at, rule)
    VALUES (${a.id}::uuid, 'city', 'crm', '2025-01-01T00:00:00Z', 'FIRST_VALUE'), (${b.id}::uuid, 'phone', 'shop', '2025-02-01T00:00:00Z', 'FIRST_VALUE')`);
  return { a, b };
}

describe('merge and unmerge', () => {
  it('discovers every customer-keyed table from the catalog', async () => {
    const names = (await customerTables(app.db.db)).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['customer_identities', 'consents', 'customer_tags', 'customer_tag_events', 'transactions', 'transaction_items',
      'interactions', 'customer_metrics', 'audit_log', 'customer_field_sources', 'customer_source_records']));
    expect(names.indexOf('transactions')).toBeLessThan(names.indexOf('transaction_items'));
    expect(names.at(-1)).toBe('customer_metrics');
  });

  it('moves every related row to the survivor in one transaction, and unmerge restores the exact prior state', async () => {
    const { a, b } = await twoDuplicates();
    const before = await dumpAll(app.db.db);
    const m = await mergeCustomers(app.db.db, app.config, gid(a.id), [gid(b.id)], 'user:test');
    expect(m.userErrors).toEqual([]);
    const counts = await execRows<Record<string, number>>(app.db.db, sql`SELECT
      (SELECT count(*)::int FROM customers WHERE id = ${b.id}::uuid) AS loser,
      (SELECT count(*)::int FROM customer_identities WHERE customer_id = ${a.id}::uuid) AS identities,
      (SELECT count(*)::int FROM transactions WHERE customer_id = ${a.id}::uuid) AS transactions,
      (SELECT count(*)::int FROM transaction_items WHERE customer_id = ${a.id}::uuid) AS items,
      (SELECT count(*)::int FROM interactions WHERE customer_id = ${a.id}::uuid) AS interactions,
      (SELECT count(*)::int FROM customer_tags WHERE customer_id = ${a.id}::uuid) AS tags,
      (SELECT count(*)::int FROM customer_tag_events WHERE customer_id = ${a.id}::uuid) AS events,
      (SELECT count(*)::int FROM consents WHERE customer_id = ${a.id}::uuid) AS consents,
      (SELECT count(*)::int FROM audit_log WHERE customer_id = ${a.id}::uuid) AS audit,
      (SELECT order_count FROM customer_metrics WHERE customer_id = ${a.id}::uuid) AS orders,
      (SELECT phone_e164 FROM customers WHERE id = ${a.id}::uuid) AS phone`);
    expect(counts[0]).toEqual({ loser: 0, identities: 2, transactions: 5, items: 5, interactions: 3, tags: 2, events: 3, consents: 2, audit: 1, orders: 5, phone: '+14155550132' });
    const u = await unmergeCustomers(app.db.db, toMergeId(m.mergeId!), 'user:test');
    expect(u.userErrors).toEqual([]);
    const after = await dumpAll(app.db.db);
    expect(after).toEqual(before);
    const again = await unmergeCustomers(app.db.db, toMergeId(m.mergeId!), 'user:test');
    expect(again.userErrors[0]).toMatchObject({ code: 'CONFLICT' });
  });

  it('through the API: duplicates, preview, merge and unmerge', async () => {
    const { a, b } = await twoDuplicates();
    const dup = await app.gql<{ duplicateCandidates: { score: number; reasons: string[]; customers: { id: string }[] }[] }>(
      `{ duplicateCandidates { score reasons customers { id } } }`);
    expect(dup.body.errors).toBeUndefined();
    expect(dup.body.data!.duplicateCandidates).toHaveLength(1);
    expect(dup.body.data!.duplicateCandidates[0]!.reasons).toEqual(['SAME_EMAIL']);
    expect(dup.body.data!.duplicateCandidates[0]!.customers.map((c) => c.id).sort()).toEqual([gid(a.id), gid(b.id)].sort());

    const preview = await app.gql<{ previewMerge: { result: { id: string; phone: string; address: { city: string }; lastName: string }; merged: { id: string }[]; userErrors: unknown[] } }>(
      `query($s: ID!, $m: [ID!]!) { previewMerge(survivorId: $s, mergedIds: $m) { result { id phone address { city } lastName } merged { id } userErrors { code } } }`,
      { s: gid(a.id), m: [gid(b.id)] });
    expect(preview.body.errors).toBeUndefined();
    expect(preview.body.data!.previewMerge).toMatchObject({ result: { id: gid(a.id), phone: '+14155550132', address: { city: 'London' } }, merged: [{ id: gid(b.id) }], userErrors: [] });
    const [still] = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM customers`);
    expect(still!.n).toBe(2);

    const merged = await app.gql<{ mergeCustomers: { merge: { id: string; mergedCustomerIds: string[] }; customer: { id: string; fieldSources: { field: string; source: string; rule: string }[] }; userErrors: unknown[] } }>(
      `mutation($s: ID!, $m: [ID!]!) { mergeCustomers(input: { survivorId: $s, mergedIds: $m }) { merge { id mergedCustomerIds } customer { id fieldSources { field source rule } } userErrors { code } } }`,
      { s: gid(a.id), m: [gid(b.id)] });
    expect(merged.body.errors).toBeUndefined();
    expect(merged.body.data!.mergeCustomers.merge.mergedCustomerIds).toEqual([gid(b.id)]);
    expect(merged.body.data!.mergeCustomers.customer.fieldSources).toEqual(expect.arrayContaining([{ field: 'phone', source: 'shop', rule: 'MERGE' }]));

    const undone = await app.gql<{ unmergeCustomers: { customers: { id: string }[]; userErrors: unknown[] } }>(
      `mutation($id: ID!) { unmergeCustomers(mergeId: $id) { customers { id } userErrors { code } } }`, { id: merged.body.data!.mergeCustomers.merge.id });
    expect(undone.body.data!.unmergeCustomers.customers.map((c) => c.id).sort()).toEqual([gid(a.id), gid(b.id)].sort());
  });

  it('pairs customers with the same birth date (blind index), whether written by a mutation or an import', async () => {
    const seed = createSeeder(app.db.db);
    const a = await seed.customer({ firstName: 'Margaret', lastName: 'Hamilton', birthDate: '1936-08-17' }).create();
    const b = await seed.customer({ firstName: 'Margaret', lastName: 'Hamilton', birthDate: '1936-08-17' }).create();
    // The same name with another birth date (and no postal code, email or phone in common) is no candidate.
    await seed.customer({ firstName: 'Margaret', lastName: 'Hamilton', birthDate: '1940-01-01' }).create();
    const q = `{ duplicateCandidates { score reasons customers { id } } }`;
    const res = await app.gql<{ duplicateCandidates: { score: number; reasons: string[]; customers: { id: string }[] }[] }>(q);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.duplicateCandidates).toHaveLength(1);
    expect(res.body.data!.duplicateCandidates[0]!.reasons).toEqual(['SAME_BIRTH_DATE', 'SIMILAR_NAME']);
    expect(res.body.data!.duplicateCandidates[0]!.customers.map((c) => c.id).sort()).toEqual([gid(a.id), gid(b.id)].sort());
    // Merging writes the survivor's birth date encrypted, with its month and blind index (not in clear).
    expect((await mergeCustomers(app.db.db, app.config, gid(a.id), [gid(b.id)], 'user:test')).userErrors).toEqual([]);
    const [survivor] = await execRows<{ birth_date: string; birth_month: string; birth_date_bidx: string }>(app.db.db,
      sql`SELECT birth_date, birth_month::text AS birth_month, birth_date_bidx FROM customers WHERE id = ${a.id}::uuid`);
    expect(survivor).toEqual({ birth_date: expect.stringMatching(/^v1:/), birth_month: '1936-08-01', birth_date_bidx: blindIndex('customers.birth_date', '1936-08-17') });
    expect(decryptField('customers.birth_date', survivor!.birth_date)).toBe('1936-08-17');
    // Two imported records (no email, phone or postal code) with one birth date written in two formats.
    await resetCustomerData(app.db.db);
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const dir = mkdtempSync(path.join(tmpdir(), 'dup-'));
    writeFileSync(path.join(dir, 'c.csv'), 'external_id,first_name,last_name,birth_date\nH-1,Grace,Hopper,1906-12-09\nH-2,Grace,Hopper,09.12.1906\n');
    await importFile(app.db.db, 'customers', path.join(dir, 'c.csv'));
    const imported = await app.gql<{ duplicateCandidates: { reasons: string[]; customers: { id: string }[] }[] }>(q);
    expect(imported.body.data!.duplicateCandidates.map((d) => [d.reasons, d.customers.length])).toEqual([[['SAME_BIRTH_DATE', 'SIMILAR_NAME'], 2]]);
  });

  it('refuses bad merges with userErrors and keeps merges to ADMIN and AGENT', async () => {
    const { a } = await twoDuplicates();
    const self = await app.gql<{ mergeCustomers: { userErrors: { code: string; field: string[] }[] } }>(
      `mutation($s: ID!) { mergeCustomers(input: { survivorId: $s, mergedIds: [$s] }) { userErrors { code field } } }`, { s: gid(a.id) });
    expect(self.body.data!.mergeCustomers.userErrors).toEqual([{ code: 'BAD_USER_INPUT', field: ['input', 'mergedIds'] }]);
    const missing = await app.gql<{ mergeCustomers: { userErrors: { code: string }[] } }>(
      `mutation($s: ID!, $m: [ID!]!) { mergeCustomers(input: { survivorId: $s, mergedIds: $m }) { userErrors { code } } }`, { s: gid(a.id), m: [gid('00000000-0000-4000-8000-000000000000')] });
    expect(missing.body.data!.mergeCustomers.userErrors).toEqual([{ code: 'NOT_FOUND' }]);
    const marketer = await app.gql(`{ duplicateCandidates { score } }`, {}, { role: 'MARKETER' });
    expect(marketer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('provenance and quality in the graph', () => {
  it('reads fieldSources of many customers in one statement and filters on quality', async () => {
    await importFile(app.db.db, 'customers', fixture('customers-messy.csv'), { batchSize: 100 });
    const q = `query($f: CustomerFilter) { customers(first: 50, filter: $f) { totalCount edges { node { id fieldSources { field source rule } quality { completeness validity missingFields invalidFields } } } } }`;
    const all = await app.gql<{ customers: { totalCount: number; edges: { node: { fieldSources: unknown[]; quality: { completeness: number; validity: number; invalidFields: string[] } } }[] } }>(q);
    expect(all.body.errors).toBeUndefined();
    expect(all.body.data!.customers.totalCount).toBe(8);
    expect(all.body.data!.customers.edges.every((e) => e.node.fieldSources.length > 0)).toBe(true);
    const withoutSources = await app.gql(`{ customers(first: 50) { edges { node { id quality { completeness } } } } }`);
    // fieldSources adds exactly one statement whatever the number of customers (DataLoader).
    expect(all.statements - withoutSources.statements).toBe(1);
    // The blocked placeholder email makes a record invalid.
    const testUser = all.body.data!.customers.edges.filter((e) => e.node.quality.invalidFields.includes('email'));
    expect(testUser).toHaveLength(2);

    const complete = await app.gql<{ customers: { totalCount: number; edges: { node: { quality: { completeness: number } } }[] } }>(q, { f: { quality: { completeness: { min: 0.8 } } } });
    const expected = all.body.data!.customers.edges.filter((e) => e.node.quality.completeness >= 0.8).length;
    expect(complete.body.data!.customers.totalCount).toBe(expected);
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(8);
    const invalid = await app.gql<{ customers: { totalCount: number } }>(q, { f: { quality: { validity: { max: 0.99 } } } });
    expect(invalid.body.data!.customers.totalCount).toBe(2);
    const bad = await app.gql(q, { f: { quality: { validity: { min: 2 } } } });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
