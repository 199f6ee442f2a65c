import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interactions } from '../../../src/db/schema/index';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

interface UserErrorShape { field: string[]; message: string; code: string }
interface InteractionShape {
  id: string; source: string; externalId: string; channel: string; type: string; direction: string; subject: string | null;
  sentiment: string | null; status: string; agent: string | null; occurredAt: string;
}
interface RecordData { recordInteraction: { created: boolean; interaction: InteractionShape | null; userErrors: UserErrorShape[] } }

const RECORD = `mutation Record($input: RecordInteractionInput!) {
  recordInteraction(input: $input) {
    created
    interaction { id source externalId channel type direction subject sentiment status agent occurredAt }
    userErrors { field message code }
  }
}`;

describe('recordInteraction', () => {
  let app: TestApp;
  let seed: Seeder;
  let n = 0;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
  });
  afterAll(async () => { await app?.close(); });

  const newCustomer = async () => toGlobalId('Customer', (await seed.customer().withIdentity('helpdesk-crm', `HC-${++n}`).create()).id);
  const record = (input: Record<string, unknown>) => app.gql<RecordData>(RECORD, { input });
  const payload = (res: Awaited<ReturnType<typeof record>>) => {
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.recordInteraction;
  };
  const count = () => app.db.db.$count(interactions);
  const base = (customerId: string, extra: Record<string, unknown> = {}) => ({
    source: 'helpdesk', externalId: `TICKET-${++n}`, customer: { id: customerId }, channel: 'EMAIL', type: 'TICKET',
    subject: '  Where is   my order? ', occurredAt: '2025-05-01T09:30:00Z', ...extra,
  });

  it('creates an interaction with defaults for direction and status', async () => {
    const gid = await newCustomer();
    const input = base(gid, { agent: ' Grace ' });
    const p = payload(await record(input));
    expect(p.userErrors).toEqual([]);
    expect(p.created).toBe(true);
    expect(p.interaction).toEqual({
      id: expect.any(String), source: 'helpdesk', externalId: input.externalId, channel: 'EMAIL', type: 'TICKET', direction: 'INBOUND',
      subject: 'Where is my order?', sentiment: null, status: 'OPEN', agent: 'Grace', occurredAt: '2025-05-01T09:30:00.000Z',
    });
  });

  it('records for a customer given by source and externalId', async () => {
    await seed.customer().withIdentity('crm', 'IX-REF-1').create();
    const p = payload(await record({ ...base(''), customer: { source: 'crm', externalId: 'IX-REF-1' } }));
    expect(p.userErrors).toEqual([]);
    expect(p.created).toBe(true);
  });

  it('is idempotent: the same input again returns the same interaction and writes nothing', async () => {
    const input = base(await newCustomer(), { sentiment: 'NEUTRAL' });
    const first = payload(await record(input));
    const before = await count();
    const second = payload(await record(input));
    expect(second.userErrors).toEqual([]);
    expect(second.created).toBe(false);
    expect(second.interaction).toEqual(first.interaction);
    expect(await count()).toBe(before);
  });

  it('updates status and sentiment when a repeat changes them', async () => {
    const input = base(await newCustomer(), { sentiment: 'NEGATIVE', status: 'OPEN' });
    const first = payload(await record(input));
    const before = await count();
    const second = payload(await record({ ...input, sentiment: 'POSITIVE', status: 'RESOLVED' }));
    expect(second.created).toBe(false);
    expect(second.interaction).toMatchObject({ id: first.interaction?.id, sentiment: 'POSITIVE', status: 'RESOLVED' });
    expect(await count()).toBe(before);
  });

  it('returns a CONFLICT userError when the same source id is recorded for another customer', async () => {
    const input = base(await newCustomer());
    payload(await record(input));
    const other = await newCustomer();
    const before = await count();
    const p = payload(await record({ ...input, customer: { id: other } }));
    expect(p.interaction).toBeNull();
    expect(p.userErrors).toEqual([{ field: ['input', 'externalId'], message: expect.any(String), code: 'CONFLICT' }]);
    expect(await count()).toBe(before);
  });

  it.each([
    ['global id', { id: toGlobalId('Customer', '00000000-0000-4000-8000-000000000000') }, ['input', 'customer', 'id']],
    ['source and externalId', { source: 'crm', externalId: 'NOBODY' }, ['input', 'customer']],
  ])('returns a NOT_FOUND userError and writes nothing for an unknown customer by %s', async (_label, customer, path) => {
    const before = await count();
    const p = payload(await record({ ...base(''), customer }));
    expect(p.created).toBe(false);
    expect(p.interaction).toBeNull();
    expect(p.userErrors).toEqual([{ field: path, message: expect.any(String), code: 'NOT_FOUND' }]);
    expect(await count()).toBe(before);
  });

  it.each([
    ['a malformed customer id', { customer: { id: 'garbage' } }, ['input', 'customer', 'id']],
    ['an occurredAt far in the future', { occurredAt: '2999-01-01T00:00:00Z' }, ['input', 'occurredAt']],
    ['a blank externalId', { externalId: ' ' }, ['input', 'externalId']],
    ['a subject over 500 characters', { subject: 'x'.repeat(501) }, ['input', 'subject']],
  ])('returns a BAD_USER_INPUT userError and writes nothing for %s', async (_label, fields, path) => {
    const gid = await newCustomer();
    const before = await count();
    const p = payload(await record(base(gid, fields)));
    expect(p.interaction).toBeNull();
    expect(p.userErrors).toEqual([{ field: path, message: expect.any(String), code: 'BAD_USER_INPUT' }]);
    expect(await count()).toBe(before);
  });

  it('filters the customer interactions by channel', async () => {
    const gid = await newCustomer();
    payload(await record(base(gid, { channel: 'PHONE', type: 'CALL', occurredAt: '2025-05-01T09:00:00Z' })));
    payload(await record(base(gid, { channel: 'EMAIL', occurredAt: '2025-05-02T09:00:00Z' })));
    payload(await record(base(gid, { channel: 'PHONE', type: 'CALL', occurredAt: '2025-05-03T09:00:00Z' })));
    const res = await app.gql<{ customer: { all: { totalCount: number }; phone: { totalCount: number; edges: { node: { channel: string; occurredAt: string } }[] } } }>(
      `query ($id: ID!) { customer(id: $id) {
        all: interactions { totalCount }
        phone: interactions(channel: PHONE) { totalCount edges { node { channel occurredAt } } } } }`, { id: gid });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.customer.all.totalCount).toBe(3);
    expect(res.body.data?.customer.phone).toEqual({
      totalCount: 2,
      edges: [
        { node: { channel: 'PHONE', occurredAt: '2025-05-03T09:00:00.000Z' } },
        { node: { channel: 'PHONE', occurredAt: '2025-05-01T09:00:00.000Z' } },
      ],
    });
  });

  it('shows the interaction in the customer timeline', async () => {
    const gid = await newCustomer();
    const created = payload(await record(base(gid, { occurredAt: '2025-05-04T09:00:00Z' })));
    const res = await app.gql<{ customer: { timeline: { edges: { node: { __typename: string; id?: string; subject?: string } }[] } } }>(
      `query ($id: ID!) { customer(id: $id) { timeline(first: 10) { edges { node { __typename ... on Interaction { id subject } } } } } }`, { id: gid });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.customer.timeline.edges).toEqual([
      { node: { __typename: 'Interaction', id: created.interaction?.id, subject: 'Where is my order?' } },
    ]);
  });
});
