/**
 * The baseline's hand-written SQL (bench/baseline-server.ts): one statement per request that builds the
 * whole `data` document in PostgreSQL. Static text; every input is a bind parameter. Each field follows
 * the gateway's repositories (src/modules/<domain>/<domain>.repository.ts) and resolvers, so that the
 * core suite's correctness check can demand identical JSON.
 */
/** DateTime as graphql-scalars serializes a JS Date: UTC, milliseconds (truncated, like new Date()). */
const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** Microsecond key, as in the gateway's cursors (src/lib/sql.ts tsKey). */
const usKey = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
/** base64url without padding (PostgreSQL's base64 also wraps lines at 76 characters: drop the newlines). */
const base64url = (text: string) => `translate(encode(convert_to(${text}, 'UTF8'), 'base64'), '+/=' || chr(10), '-_')`;
/** Global id: base64url("<Type>:<uuid>") (src/lib/global-id.ts). */
const globalId = (type: string, col: string) => base64url(`'${type}:' || ${col}::text`);
/**
 * Customer list cursor, default order and no search (profile.service listCustomers):
 * base64url(JSON ["customers:CREATED_AT_DESC:", created_at key, id]).
 */
const customerCursor = (alias: string) =>
  base64url(`'["customers:CREATED_AT_DESC:","' || ${usKey(`${alias}.created_at`)} || '","' || ${alias}.id::text || '"]'`);

/** Net spend in base currency of completed transactions: orders minus refunds (commerce.repository metricsByCustomerIds). */
const NET = `CASE WHEN m.type = 'ORDER' THEN m.amount_base ELSE -m.amount_base END`;

/**
 * The 360 fields of the customer row `c`, in the order of the benchmark query. `$cur` is the base
 * currency parameter.
 */
function customer360(c: string, cur: string): string {
  return `json_build_object(
    'id', ${globalId('Customer', `${c}.id`)},
    'displayName', ${c}.display_name,
    'email', ${c}.email,
    'phone', coalesce(${c}.phone_e164, ${c}.phone),
    'lifecycleStage', ${c}.lifecycle_stage,
    'externalIds', coalesce((
      SELECT json_agg(json_build_object('source', ci.source, 'externalId', ci.external_id) ORDER BY ci.source, ci.external_id)
      FROM customer_identities ci WHERE ci.customer_id = ${c}.id), '[]'::json),
    'tags', coalesce((
      SELECT json_agg(json_build_object(
          'tag', json_build_object('key', d.key, 'name', d.name, 'category', d.category),
          'value', ct.value, 'source', ct.source, 'assignedAt', ${iso('ct.assigned_at')})
        ORDER BY d.category, d.key)
      FROM customer_tags ct JOIN tag_definitions d ON d.id = ct.tag_id
      WHERE ct.customer_id = ${c}.id AND (ct.expires_at IS NULL OR ct.expires_at > now())), '[]'::json),
    'metrics', (
      SELECT json_build_object(
        'orderCount', count(*) FILTER (WHERE m.type = 'ORDER'),
        'totalSpent', json_build_object('amount', coalesce(sum(${NET}), 0)::numeric(18,4)::text, 'currency', ${cur}),
        'averageOrderValue', json_build_object(
          'amount', coalesce(round(sum(${NET}) / nullif(count(*) FILTER (WHERE m.type = 'ORDER'), 0), 4), 0)::numeric(18,4)::text,
          'currency', ${cur}),
        'lastPurchaseAt', ${iso(`max(m.occurred_at) FILTER (WHERE m.type = 'ORDER')`)})
      FROM transactions m WHERE m.customer_id = ${c}.id AND m.status = 'COMPLETED'),
    'transactions', json_build_object(
      'totalCount', (SELECT count(*) FROM transactions x WHERE x.customer_id = ${c}.id),
      'edges', coalesce((
        SELECT json_agg(json_build_object('node', json_build_object(
            'id', ${globalId('Transaction', 't.id')},
            'occurredAt', ${iso('t.occurred_at')},
            'type', t.type,
            'amount', json_build_object('amount', t.amount::text, 'currency', t.currency),
            'items', coalesce((
              SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) ORDER BY i.position)
              FROM transaction_items i WHERE i.customer_id = t.customer_id AND i.transaction_id = t.id), '[]'::json)))
          ORDER BY t.occurred_at DESC, t.id DESC)
        FROM (SELECT t0.id, t0.customer_id, t0.occurred_at, t0.type, t0.amount, t0.currency FROM transactions t0
              WHERE t0.customer_id = ${c}.id ORDER BY t0.occurred_at DESC, t0.id DESC LIMIT 10) t), '[]'::json)),
    'interactions', json_build_object(
      'edges', coalesce((
        SELECT json_agg(json_build_object('node', json_build_object(
            'id', ${globalId('Interaction', 'ix.id')}, 'channel', ix.channel, 'type', ix.type,
            'occurredAt', ${iso('ix.occurred_at')}, 'sentiment', ix.sentiment))
          ORDER BY ix.occurred_at DESC, ix.id DESC)
        FROM (SELECT i0.id, i0.channel, i0.type, i0.occurred_at, i0.sentiment FROM interactions i0
              WHERE i0.customer_id = ${c}.id ORDER BY i0.occurred_at DESC, i0.id DESC LIMIT 10) ix), '[]'::json)),
    'timeline', json_build_object(
      'edges', coalesce((
        SELECT json_agg(json_build_object('node', json_build_object('__typename', u.kind)) ORDER BY u.occurred_at DESC, u.id DESC)
        FROM (
          SELECT * FROM (
            (SELECT 'Transaction' AS kind, t1.occurred_at, t1.id FROM transactions t1
              WHERE t1.customer_id = ${c}.id ORDER BY t1.occurred_at DESC, t1.id DESC LIMIT 5)
            UNION ALL
            (SELECT 'Interaction', i1.occurred_at, i1.id FROM interactions i1
              WHERE i1.customer_id = ${c}.id ORDER BY i1.occurred_at DESC, i1.id DESC LIMIT 5)
            UNION ALL
            (SELECT 'TagChange', e1.occurred_at, e1.id FROM customer_tag_events e1
              WHERE e1.customer_id = ${c}.id ORDER BY e1.occurred_at DESC, e1.id DESC LIMIT 5)
          ) u0 ORDER BY u0.occurred_at DESC, u0.id DESC LIMIT 5) u), '[]'::json)))`;
}

/** (a) `customer(id:)`: $1 customer uuid, $2 base currency. */
export const SQL_CUSTOMER_BY_ID = `
  SELECT json_build_object('customer', (SELECT ${customer360('c', '$2::text')} FROM customers c WHERE c.id = $1::uuid))::text AS body`;

/**
 * (b)/(c) `customers(filter, first)` in the default order (created_at DESC, id DESC), with totalCount,
 * cursors and pageInfo: the page is fetched with one extra row to know whether more follow.
 * $1 first, $2 base currency, and for (c) $3 the normalized email.
 */
function customerPage(where: string): string {
  return `
  WITH page AS MATERIALIZED (
    SELECT c.*, row_number() OVER (ORDER BY c.created_at DESC, c.id DESC) AS rn
    FROM (SELECT * FROM customers WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $1::int + 1) c
  )
  SELECT json_build_object('customers', json_build_object(
    'totalCount', (SELECT count(*) FROM customers WHERE ${where}),
    'edges', coalesce((
      SELECT json_agg(json_build_object('cursor', ${customerCursor('p')}, 'node', ${customer360('p', '$2::text')}) ORDER BY p.rn)
      FROM page p WHERE p.rn <= $1::int), '[]'::json),
    'pageInfo', json_build_object(
      'hasNextPage', (SELECT count(*) FROM page) > $1::int,
      'endCursor', (SELECT ${customerCursor('p')} FROM page p WHERE p.rn <= $1::int ORDER BY p.rn DESC LIMIT 1))
  ))::text AS body`;
}
export const SQL_CUSTOMER_PAGE = customerPage('true');
export const SQL_CUSTOMER_BY_EMAIL = customerPage('email_normalized = $3::text');


/**
 * Scale suite lookups, `customers(filter: { email | phone }, first: 5) { totalCount edges { node { id displayName email phone } } }`:
 * the same answer as one statement. $1 the normalized email or E.164 phone.
 */
function customerLookup(column: 'email_normalized' | 'phone_e164'): string {
  return `
  SELECT json_build_object('customers', json_build_object(
    'totalCount', (SELECT count(*) FROM customers WHERE ${column} = $1::text),
    'edges', coalesce((
      SELECT json_agg(json_build_object('node', json_build_object('id', ${globalId('Customer', 'c.id')}, 'displayName', c.display_name, 'email', c.email, 'phone', c.phone))
        ORDER BY c.created_at DESC, c.id DESC)
      FROM (SELECT id, display_name, email, phone, created_at FROM customers WHERE ${column} = $1::text ORDER BY created_at DESC, id DESC LIMIT 5) c), '[]'::json)
  ))::text AS body`;
}
export const SQL_LOOKUP_BY_EMAIL = customerLookup('email_normalized');
export const SQL_LOOKUP_BY_PHONE = customerLookup('phone_e164');
