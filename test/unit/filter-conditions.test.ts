import { isInputObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { filterConditions } from '../../src/modules/profile/customer-filter';
import { buildBareSchema } from '../../src/schema';

describe('CustomerFilter conditions (each domain contributes its own)', () => {
  it('has exactly one condition for every field of CustomerFilter but and/or/not', () => {
    const input = buildBareSchema().getType('CustomerFilter');
    if (!isInputObjectType(input)) throw new Error('the schema has no CustomerFilter input');
    const fields = Object.keys(input.getFields()).filter((f) => !['and', 'or', 'not'].includes(f)).sort();
    const claimed = filterConditions().map((c) => c.field).sort();
    expect(fields.length).toBeGreaterThan(10);
    expect(claimed).toEqual(fields);
  });
});
