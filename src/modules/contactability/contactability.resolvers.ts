import type { ContactChannel, CustomerResolvers, Resolvers } from '../../__generated__/resolvers-types';

/** Each channel's consent purpose and the contact value it needs. */
const CHANNELS: Record<ContactChannel, { purpose: string; has: (c: { email: string | null; phone: string | null }) => boolean }> = {
  EMAIL: { purpose: 'marketing_email', has: (c) => Boolean(c.email) },
  SMS: { purpose: 'marketing_sms', has: (c) => Boolean(c.phone) },
};

const Customer: CustomerResolvers = {
  contactable: async (c, { channel }, ctx) => {
    const { purpose, has } = CHANNELS[channel];
    if (!has(c)) return false;
    const consents = await ctx.loaders.consentsByCustomerId.load(c.id);
    return consents.some((k) => k.purpose === purpose && k.status === 'GRANTED');
  },
};

export const contactabilityResolvers: Resolvers = { Customer };
