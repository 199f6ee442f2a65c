import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../../helpers/app';

/**
 * Chinese, Japanese and Korean names (issue 19, point 12): shown family name first without a space,
 * and found by keyword search without spaces between family and given name, on either database.
 * The customers are written the way a source system writes them: given and family name apart.
 */
const PEOPLE = [
  { externalId: 'CN-1', firstName: '伟', lastName: '张', country: 'CN', display: '张伟' },
  { externalId: 'CN-2', firstName: '伟明', lastName: '张', country: 'CN', display: '张伟明' },
  { externalId: 'CN-3', firstName: '芳', lastName: '胡', country: 'CN', display: '胡芳' },
  { externalId: 'CN-4', firstName: '建国', lastName: '高', country: 'CN', display: '高建国' },
  { externalId: 'JP-1', firstName: '太郎', lastName: '山田', country: 'JP', display: '山田太郎' },
  { externalId: 'KR-1', firstName: '민준', lastName: '김', country: 'KR', display: '김민준' },
  // Romanized: family name first for a CN customer, with a space.
  { externalId: 'CN-5', firstName: 'Wei', lastName: 'Zhang', country: 'CN', display: 'Zhang Wei' },
  // Not a CJK locale: given name first as before.
  { externalId: 'GB-1', firstName: 'Wei', lastName: 'Zhang', country: 'GB', display: 'Wei Zhang' },
  { externalId: 'US-1', firstName: 'Grace', lastName: 'Hopper', country: 'US', display: 'Grace Hopper' },
] as const;

interface Upserted { upsertCustomer: { customer: { displayName: string } | null; userErrors: unknown[] } }
interface Found { customers: { totalCount: number; edges: { node: { displayName: string } }[] } }
const SEARCH = `query($search: String, $filter: CustomerFilter) { customers(search: $search, filter: $filter, first: 50) { totalCount edges { node { displayName } } } }`;

describe('CJK names', () => {
  let app: TestApp;
  const displays: Record<string, string> = {};
  beforeAll(async () => {
    app = await startApp();
    for (const p of PEOPLE) {
      const res = await app.gql<Upserted>(`mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { customer { displayName } userErrors { message } } }`,
        { input: { source: 'crm', externalId: p.externalId, firstName: p.firstName, lastName: p.lastName, address: { country: p.country } } });
      expect(res.body.errors).toBeUndefined();
      displays[p.externalId] = res.body.data!.upsertCustomer.customer!.displayName;
    }
  });
  afterAll(async () => { await app?.close(); });

  const names = async (search: string, filter?: Record<string, unknown>) => {
    const res = await app.gql<Found>(SEARCH, { search, filter });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.customers.edges.map((e) => e.node.displayName);
  };

  it('displays CJK names family name first without a space, romanized names of CJK countries family name first', () => {
    expect(displays).toEqual(Object.fromEntries(PEOPLE.map((p) => [p.externalId, p.display])));
  });

  it('keeps the display order when a name is updated', async () => {
    const res = await app.gql<Upserted>(`mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { customer { displayName } userErrors { message } } }`,
      { input: { source: 'crm', externalId: 'CN-3', firstName: '芳芳' } });
    expect(res.body.data!.upsertCustomer.customer!.displayName).toBe('胡芳芳');
    const back = await app.gql<Upserted>(`mutation($input: UpsertCustomerInput!) { upsertCustomer(input: $input) { customer { displayName } userErrors { message } } }`,
      { input: { source: 'crm', externalId: 'CN-3', firstName: '芳' } });
    expect(back.body.data!.upsertCustomer.customer!.displayName).toBe('胡芳');
  });

  it.each([
    ['张伟', ['张伟', '张伟明']],
    ['胡芳', ['胡芳']],
    ['建国', ['高建国']],
    ['高建国', ['高建国']],
    ['建国 高', ['高建国']],
    ['山田', ['山田太郎']],
    ['山田太郎', ['山田太郎']],
    ['김민준', ['김민준']],
  ])('search %s finds %j, the closest first', async (term, expected) => {
    expect(await names(term)).toEqual(expected);
  });

  it('a single character finds every name containing it', async () => {
    expect((await names('张')).sort()).toEqual(['张伟', '张伟明']);
  });

  it('finds nobody for a CJK term no name contains', async () => {
    expect(await names('李娜')).toEqual([]);
    expect(await names('伟张')).toEqual([]);
  });

  it('combines with a filter, and romanized names are still found by the fuzzy search', async () => {
    expect(await names('张伟', { country: 'CN' })).toEqual(['张伟', '张伟明']);
    expect(await names('张伟', { country: 'JP' })).toEqual([]);
    expect((await names('Zhang Wei')).slice(0, 2).sort()).toEqual(['Wei Zhang', 'Zhang Wei']);
  });

  it('nameContains matches the displayed name', async () => {
    const res = await app.gql<Found>(SEARCH, { filter: { nameContains: '张伟' } });
    expect(res.body.data!.customers.edges.map((e) => e.node.displayName).sort()).toEqual(['张伟', '张伟明']);
  });
});
