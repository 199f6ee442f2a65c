import type { DomainCompile } from './types';

/** `node(id)`: any Node by global id (its runtime type's fields are planned for each possible type). */
export const baseCompile: DomainCompile = {
  domain: 'base',
  roots: ['node'],
};
