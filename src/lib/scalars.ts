import { GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, JSONResolver, LocalDateResolver } from 'graphql-scalars';
import { badUserInput } from '../errors';
import { normalizeDecimal } from './normalize';

/** Money and other exact numbers travel as strings: `"129.9900"`. Inputs allow at most 4 decimals. */
export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'An exact decimal number carried as a string.',
  serialize: (v) => String(v),
  parseValue: (v) => {
    const d = typeof v === 'string' || typeof v === 'number' ? normalizeDecimal(String(v)) : null;
    if (d === null) throw badUserInput('Decimal must be a string like "19.99" with at most 4 decimals');
    return d;
  },
  parseLiteral: (ast) => {
    const raw = ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT ? ast.value : null;
    const d = raw === null ? null : normalizeDecimal(raw);
    if (d === null) throw badUserInput('Decimal must be a string like "19.99" with at most 4 decimals');
    return d;
  },
});

export const scalarResolvers = {
  DateTime: DateTimeResolver,
  Date: new GraphQLScalarType({ ...LocalDateResolver.toConfig(), name: 'Date' }),
  Decimal: DecimalScalar,
  JSON: JSONResolver,
};
