import { GraphQLScalarType, Kind } from 'graphql';

const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/**
 * An exact decimal number as a string: amounts of money (`"12.345678"`,
 * six decimals) and prices (up to nine). Money is never a float.
 */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'An exact decimal number as a string ("12.345678"): amounts of money and prices, never floats.',
  serialize(value) {
    if (typeof value !== 'string' || !DECIMAL.test(value)) throw new TypeError(`Decimal cannot represent ${String(value)}`);
    return value;
  },
  parseValue(value) {
    if (typeof value !== 'string' || !DECIMAL.test(value)) throw new TypeError('A Decimal is a string of a decimal number, e.g. "0.031611"');
    return value;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING || !DECIMAL.test(ast.value)) throw new TypeError('A Decimal is a string of a decimal number, e.g. "0.031611"');
    return ast.value;
  },
});
