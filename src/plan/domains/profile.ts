import type { DomainCompile } from './types';

/** The customer 360 entry points; every Customer field below them is planned through its own domain's rules. */
export const profileCompile: DomainCompile = {
  domain: 'profile',
  roots: ['customer', 'customerByExternalId', 'customers'],
};
