import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../../src/lib/global-id';
import { createSeeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

describe('FEDERATION=true: the schema as an Apollo Federation 2 subgraph', () => {
  let app: TestApp;
  let ids: string[];
  beforeAll(async () => {
    app = await startApp({ FEDERATION: 'true' });
    const seed = createSeeder(app.db.db);
    const rows = [
      await seed.customer({ firstName: 'Fed', lastName: 'One', email: 'fed.one@example.com' }).create(),
      await seed.customer({ firstName: 'Fed', lastName: 'Two', email: 'fed.two@example.com' }).create(),
    ];
    ids = rows.map((r) => toGlobalId('Customer', r.id));
  });
  afterAll(async () => { await app?.close(); });

  const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Customer { id displayName email } } }`;

  it('publishes its SDL with Customer @key(fields: "id") and the federation link', async () => {
    const res = await app.gql<{ _service: { sdl: string } }>('{ _service { sdl } }');
    expect(res.body.errors).toBeUndefined();
    const sdl = res.body.data!._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.3"');
    expect(sdl).toMatch(/type Customer[^{]*@key\(fields: "id"\)/);
  });

  it('resolves Customer references through one batched loader statement, unknown ids as null', async () => {
    const reps = [...ids, toGlobalId('Customer', '00000000-0000-4000-8000-000000000000')].map((id) => ({ __typename: 'Customer', id }));
    const res = await app.gql<{ _entities: ({ id: string; displayName: string; email: string } | null)[] }>(ENTITIES, { reps });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!._entities).toEqual([
      { id: ids[0], displayName: 'Fed One', email: 'fed.one@example.com' },
      { id: ids[1], displayName: 'Fed Two', email: 'fed.two@example.com' },
      null,
    ]);
    expect(res.statements).toBe(1);
  });

  it('applies field privacy to entities (MARKETER sees a masked email)', async () => {
    const res = await app.gql<{ _entities: { email: string }[] }>(ENTITIES, { reps: [{ __typename: 'Customer', id: ids[0] }] }, { role: 'MARKETER' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!._entities[0]!.email).not.toBe('fed.one@example.com');
    expect(res.body.data!._entities[0]!.email).toMatch(/\*/);
  });

  it('applies the shield: _entities needs the right to read customers, _service an authenticated viewer', async () => {
    const anon = await app.gql('{ _service { sdl } }', undefined, { authorization: null });
    expect(anon.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const noRole = await app.gql(ENTITIES, { reps: [{ __typename: 'Customer', id: ids[0] }] }, { authorization: null });
    expect(noRole.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('still serves the ordinary root fields', async () => {
    const res = await app.gql<{ customer: { displayName: string } }>('query($id: ID!) { customer(id: $id) { displayName } }', { id: ids[1] });
    expect(res.body.data?.customer.displayName).toBe('Fed Two');
  });
});
