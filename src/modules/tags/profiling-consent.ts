import { sql, type SQL } from 'drizzle-orm';

/**
 * Objection to profiling (GDPR art. 21/22): a customer whose latest `profiling` consent is WITHDRAWN
 * (or DENIED) gets no automated derivation: no RULE or MODEL tags (value tier, interests), no RFM
 * scores, no membership of DYNAMIC segments. No decision recorded = allowed. Manual and imported tags
 * and STATIC segments are decisions of people and stay.
 */
export const PROFILING_PURPOSE = 'profiling';

/** Reason of the tag history rows written when an objection removes a derived tag. */
export const CONSENT_WITHDRAWN = 'CONSENT_WITHDRAWN';

/**
 * SQL: true when automated derivation is allowed for the customer `customerId` (an SQL expression).
 * Correlated, one probe of consents_customer_purpose_recorded_idx per customer, so it costs the same
 * for one customer (incremental runs) as per row of a set-based job; the latest decision is chosen
 * like the `consent:` filter does.
 */
export function profilingAllowed(customerId: SQL): SQL {
  return sql`coalesce((SELECT pc.status FROM consents pc WHERE pc.customer_id = ${customerId} AND pc.purpose = ${PROFILING_PURPOSE}
    ORDER BY pc.recorded_at DESC, pc.created_at DESC LIMIT 1), 'GRANTED') = 'GRANTED'`;
}
