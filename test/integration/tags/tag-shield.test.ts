import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../../src/lib/global-id';
import type { Role } from '../../../src/__generated__/resolvers-types';
import { startApp, type TestApp } from '../../helpers/app';

/** Every root field of the tag engine, with arguments that pass GraphQL validation. */
const NONE = '00000000-0000-4000-8000-000000000000';
const TAG = toGlobalId('TagDefinition', NONE);
const RULE = toGlobalId('TagRule', NONE);
const RULE_INPUT = `{ key: "x_rule", name: "x", tagKey: "x", filter: {} }`;
const FIELDS: Record<string, string> = {
  tagRules: '{ tagRules { id } }',
  tagRule: `{ tagRule(id: "${RULE}") { id } }`,
  previewTagRule: `{ previewTagRule(input: ${RULE_INPUT}) { gain } }`,
  bulkAssignTag: 'mutation { bulkAssignTag(input: { customers: { ids: [] }, tagKey: "x" }) { matched } }',
  bulkRemoveTag: 'mutation { bulkRemoveTag(input: { customers: { ids: [] }, tagKey: "x" }) { matched } }',
  createTagDefinition: 'mutation { createTagDefinition(input: { key: "x_def", name: "x", category: CUSTOM }) { userErrors { code } } }',
  updateTagDefinition: `mutation { updateTagDefinition(input: { id: "${TAG}", name: "y" }) { userErrors { code } } }`,
  renameTagDefinition: `mutation { renameTagDefinition(input: { id: "${TAG}", key: "y_def" }) { userErrors { code } } }`,
  mergeTagDefinitions: `mutation { mergeTagDefinitions(input: { sourceId: "${TAG}", targetId: "${TAG}" }) { userErrors { code } } }`,
  deprecateTagDefinition: `mutation { deprecateTagDefinition(input: { id: "${TAG}" }) { userErrors { code } } }`,
  createTagRule: `mutation { createTagRule(input: ${RULE_INPUT}) { userErrors { code } } }`,
  updateTagRule: `mutation { updateTagRule(input: { id: "${RULE}", name: "y" }) { userErrors { code } } }`,
  enableTagRule: `mutation { enableTagRule(id: "${RULE}") { userErrors { code } } }`,
  disableTagRule: `mutation { disableTagRule(id: "${RULE}") { userErrors { code } } }`,
  runTagRule: `mutation { runTagRule(id: "${RULE}") { userErrors { code } } }`,
};
const WRITERS = new Set(['bulkAssignTag', 'bulkRemoveTag']);
const allowed = (field: string, role: Role) =>
  role === 'ADMIN' || role === 'MARKETER' || (role === 'AGENT' && WRITERS.has(field));

describe('shield rules of the tag engine root fields', () => {
  let app: TestApp;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  const cases = Object.keys(FIELDS).flatMap((field) => (['ADMIN', 'MARKETER', 'AGENT', 'ANALYST'] as Role[]).map((role) => [field, role] as const));
  it.each(cases)('%s as %s', async (field, role) => {
    const res = await app.gql(FIELDS[field]!, {}, { role });
    const codes = (res.body.errors ?? []).map((e) => e.extensions?.code);
    expect({ field, role, forbidden: codes.includes('FORBIDDEN') }).toEqual({ field, role, forbidden: !allowed(field, role) });
    // An allowed call answers (data or userErrors), never an internal error.
    expect(codes).not.toContain('INTERNAL_SERVER_ERROR');
  });
});
