import { Faker, base, en } from '@faker-js/faker';
import {
  getNamedType, isAbstractType, isEnumType, isInputObjectType, isLeafType, isListType, isNonNullType,
  type GraphQLArgument, type GraphQLField, type GraphQLNamedType, type GraphQLObjectType, type GraphQLSchema,
} from 'graphql';

/**
 * Random valid operations over the schema, reproducible from a seed: a root (customer, customers,
 * node, customerByExternalId) and a random selection below Customer (random fields, aliases, named
 * and inline fragments, __typename, arguments of list fields, sometimes invalid page sizes and cursors).
 */
export interface Generated { name: string; query: string; variables: Record<string, unknown> }

export interface GenInput { customerId: string; externalId: { source: string; externalId: string } }

const MAX_DEPTH = 3;

export function generateOperations(schema: GraphQLSchema, seed: number, count: number, input: GenInput): Generated[] {
  const f = new Faker({ locale: [en, base], seed });
  const chance = (p: number) => f.number.float({ min: 0, max: 1 }) < p;
  const pick = <T>(xs: readonly T[]): T => xs[f.number.int({ min: 0, max: xs.length - 1 })]!;
  const customer = schema.getType('Customer') as GraphQLObjectType;
  const out: Generated[] = [];
  for (let i = 0; i < count; i++) {
    const fragments: string[] = [];
    let fragmentCount = 0;

    const argValue = (a: GraphQLArgument): string | undefined => {
      const t = getNamedType(a.type);
      if (a.name === 'first') return pick(['0', '1', '2', '3', '10', '1000', '1', '2']);
      if (a.name === 'after') return chance(0.3) ? '"not-a-cursor"' : undefined;
      if (a.name === 'purpose') return pick(['"marketing_email"', '"partner_sharing"']);
      if (a.name === 'tagKey') return '"vip"';
      if (a.name === 'from') return chance(0.5) ? '"2025-05-20T00:00:00Z"' : undefined;
      if (a.name === 'to') return chance(0.5) ? '"2025-06-01T00:00:00Z"' : undefined;
      if (isEnumType(t)) return pick(t.getValues()).name;
      return undefined;
    };

    const args = (field: GraphQLField<unknown, unknown>): string | null => {
      // Fields with a required argument the generator cannot fill are not selected.
      const parts: string[] = [];
      for (const a of field.args) {
        if (isInputObjectType(getNamedType(a.type)) || (isListType(isNonNullType(a.type) ? a.type.ofType : a.type))) {
          if (isNonNullType(a.type)) return null;
          continue;
        }
        const v = chance(0.6) || isNonNullType(a.type) ? argValue(a) : undefined;
        if (v === undefined) { if (isNonNullType(a.type)) return null; continue; }
        parts.push(`${a.name}: ${v}`);
      }
      return parts.length ? `(${parts.join(', ')})` : '';
    };

    const selection = (type: GraphQLNamedType, depth: number, prefix = ''): string => {
      if (isAbstractType(type)) {
        const possible = schema.getPossibleTypes(type);
        const chosen = f.helpers.arrayElements(possible, { min: 1, max: Math.min(3, possible.length) });
        // Fields of different types under one union can clash by name (`type`): each type's get its own aliases.
        return `{ __typename ${chosen.map((t) => `... on ${t.name} ${selection(t, depth, `${t.name}_`)}`).join(' ')} }`;
      }
      const obj = type as GraphQLObjectType;
      const fields = Object.values(obj.getFields()).filter((fd) => {
        const named = getNamedType(fd.type);
        if (!isLeafType(named) && depth >= MAX_DEPTH) return false;
        // The customer lists of a segment recurse into the whole graph: the corpus covers them.
        return !(obj.name === 'Segment' && fd.name === 'members');
      });
      const leafs = fields.filter((fd) => isLeafType(getNamedType(fd.type)));
      const chosen = f.helpers.arrayElements(fields, { min: 1, max: Math.min(fields.length, depth === 0 ? 10 : 5) });
      if (!chosen.some((fd) => isLeafType(getNamedType(fd.type))) && leafs.length) chosen.push(pick(leafs));
      const rendered: string[] = [];
      for (const [k, fd] of chosen.entries()) {
        const a = args(fd);
        if (a === null) continue;
        const named = getNamedType(fd.type);
        const alias = prefix ? `${prefix}${k}_${fd.name}: ` : chance(0.15) ? `a${k}_${fd.name}: ` : '';
        const sub = isLeafType(named) ? '' : ` ${selection(named, depth + 1)}`;
        rendered.push(`${alias}${fd.name}${a}${sub}`);
      }
      if (chance(0.1)) rendered.push('__typename');
      if (rendered.length === 0) rendered.push('__typename');
      // Part of the selection through a named fragment or an inline fragment.
      if (rendered.length > 1 && chance(0.25)) {
        const cut = f.number.int({ min: 1, max: rendered.length - 1 });
        const moved = rendered.splice(cut);
        if (chance(0.5)) {
          const name = `F${fragmentCount++}`;
          fragments.push(`fragment ${name} on ${obj.name} { ${moved.join(' ')} }`);
          rendered.push(`...${name}`);
        } else rendered.push(`... on ${obj.name} { ${moved.join(' ')} }`);
      }
      return `{ ${rendered.join(' ')} }`;
    };

    const body = selection(customer, 0);
    const kind = pick(['customer', 'customer', 'customers', 'node', 'byExternalId'] as const);
    let root: string;
    let vars = '';
    const variables: Record<string, unknown> = {};
    switch (kind) {
      case 'customer': root = `customer(id: $id) ${body}`; vars = '($id: ID!)'; variables.id = input.customerId; break;
      case 'node': root = `node(id: $id) { id ... on Customer ${body} }`; vars = '($id: ID!)'; variables.id = input.customerId; break;
      case 'byExternalId': root = `customerByExternalId(source: $source, externalId: $ext) ${body}`; vars = '($source: String!, $ext: String!)';
        variables.source = input.externalId.source; variables.ext = input.externalId.externalId; break;
      case 'customers': {
        const order = pick(['CREATED_AT_DESC', 'CREATED_AT_ASC', 'NAME_ASC', 'NAME_DESC', 'TOTAL_SPENT_DESC', 'ORDER_COUNT_ASC', 'LAST_PURCHASE_DESC']);
        root = `customers(first: $first, orderBy: [${order}]) { totalCount edges { cursor node ${body} } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }`;
        vars = '($first: Int)'; variables.first = pick([2, 3, 5]);
        break;
      }
    }
    const name = `Gen${i}`;
    out.push({ name, query: `query ${name}${vars} { ${root} } ${fragments.join(' ')}`, variables });
  }
  return out;
}

