import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../../src/db/client';
import { startApp, type TestApp } from '../../helpers/app';
import { processDb, readReport, runCli, tmp, type ProcessDb } from './helpers';

/**
 * Phone numbers written the way people of a country write them are read in that country: a London,
 * a Beijing and a Berlin number in national format, each with its row's country, through the import
 * CLI (a child process), `upsertCustomer` and the keyword search (over HTTP). DEFAULT_PHONE_REGION is US.
 */
const ROWS = [
  { id: 'P-GB', name: 'Olivia', phone: '020 7946 0018', country: 'GB', e164: '+442079460018' },
  { id: 'P-CN', name: 'Wei', phone: '138-0013-8043', country: 'CN', e164: '+8613800138043' },
  { id: 'P-DE', name: 'Jonas', phone: '030 12345000', country: 'DE', e164: '+493012345000' },
] as const;

describe('phones are read in the row\'s country, malformed emails are rejected: npm run import', () => {
  let target: ProcessDb;
  beforeAll(async () => { target = await processDb(); });
  afterAll(async () => { await target?.destroy(); });

  it('accepts national numbers of GB, CN and DE rows and stores them in E.164; a row without a country uses DEFAULT_PHONE_REGION', async () => {
    const dir = tmp();
    const file = path.join(dir, 'customers.csv');
    writeFileSync(file, ['external_id,first_name,phone,country,email',
      ...ROWS.map((r) => `${r.id},${r.name},${r.phone},${r.country},`),
      'P-US,Ava,(415) 555-0132,,',
      // A Chinese mobile number with a British country is not a valid British (nor US) number: rejected, and the report says how it was read.
      'P-BAD,Noah,138-0013-8043,United Kingdom,',
      // Issue 19 point 9: a domain starting with a dot is not an email domain.
      'P-MAIL,Mia,,,user@.example.com'].join('\n'));
    const errors = path.join(dir, 'errors.csv');
    const r = await runCli('src/cli/import.ts', ['customers', file, '--source', 'crm', '--errors', errors, '--json'], { ...target.env, DEFAULT_PHONE_REGION: 'US' });
    expect(r.stderr + r.stdout).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rowsRead: number; stored: number; rejected: number };
    expect(summary).toMatchObject({ rowsRead: 6, stored: 4, rejected: 2 });
    expect(readReport(errors)).toEqual([
      expect.objectContaining({ field: 'phone', reason: 'is not a valid phone number (national numbers are read as GB, then as US; got "138-0013-8043")' }),
      expect.objectContaining({ field: 'email', reason: 'is not a valid email address (got "user@.example.com")' }),
    ]);

    const handle = await target.open();
    try {
      const stored = await execRows<{ external_id: string; phone_e164: string; country: string | null }>(handle.db,
        sql`SELECT i.external_id, c.phone_e164, c.country FROM customers c JOIN customer_identities i ON i.customer_id = c.id ORDER BY 1`);
      expect(stored).toEqual([
        { external_id: 'P-CN', phone_e164: '+8613800138043', country: 'CN' },
        { external_id: 'P-DE', phone_e164: '+493012345000', country: 'DE' },
        { external_id: 'P-GB', phone_e164: '+442079460018', country: 'GB' },
        { external_id: 'P-US', phone_e164: '+14155550132', country: null },
      ]);
    } finally {
      await handle.close();
    }
  }, 120_000);
});

interface Upserted { upsertCustomer: { customer: { id: string; phone: string | null } | null; userErrors: { field: string[]; message: string }[] } }
const UPSERT = `mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { customer { id phone } userErrors { field message } } }`;
interface Found { customers: { edges: { node: { id: string; firstName: string | null } }[] } }
const SEARCH = `query($search: String!, $filter: CustomerFilter) { customers(search: $search, filter: $filter) { edges { node { id firstName } } } }`;

describe('phones are read in the record\'s country: upsertCustomer and search', () => {
  let app: TestApp;
  const ids = new Map<string, string>();
  beforeAll(async () => { app = await startApp({ DEFAULT_PHONE_REGION: 'US' }); });
  afterAll(async () => { await app?.close(); });

  it.each(ROWS)('upsertCustomer reads $phone with address.country $country as $e164', async (row) => {
    const res = await app.gql<Upserted>(UPSERT, { input: { source: 'crm', externalId: row.id, firstName: row.name, phone: row.phone, address: { country: row.country } } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.upsertCustomer.userErrors).toEqual([]);
    expect(res.body.data!.upsertCustomer.customer!.phone).toBe(row.e164);
    ids.set(row.id, res.body.data!.upsertCustomer.customer!.id);
  });

  it('upsertCustomer without a country reads a national number in DEFAULT_PHONE_REGION and says so', async () => {
    const res = await app.gql<Upserted>(UPSERT, { input: { source: 'crm', externalId: 'P-NONE', phone: '020 7946 0018' } });
    expect(res.body.data!.upsertCustomer.customer).toBeNull();
    expect(res.body.data!.upsertCustomer.userErrors).toEqual([{ field: ['input', 'phone'], message: expect.stringContaining('read as US') }]);
  });

  it.each(ROWS)('search finds $phone in national format with the filter\'s country $country', async (row) => {
    const res = await app.gql<Found>(SEARCH, { search: row.phone, filter: { country: row.country } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.customers.edges.map((e) => e.node.id)).toEqual([ids.get(row.id)]);
  });

  it('search finds a national number in any of the filter\'s countries, and the filter\'s phone condition reads it in the filter\'s country', async () => {
    const any = await app.gql<Found>(SEARCH, { search: '030 12345000', filter: { countries: ['FR', 'DE'] } });
    expect(any.body.data!.customers.edges.map((e) => e.node.id)).toEqual([ids.get('P-DE')]);
    const byFilter = await app.gql<Found>(`query($filter: CustomerFilter) { customers(filter: $filter) { edges { node { id firstName } } } }`, { filter: { phone: '020 7946 0018', country: 'GB' } });
    expect(byFilter.body.data!.customers.edges.map((e) => e.node.id)).toEqual([ids.get('P-GB')]);
  });
});
