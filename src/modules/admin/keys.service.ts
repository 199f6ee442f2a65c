import { sql, type SQL } from 'drizzle-orm';
import { execRows, type Db } from '../../db/client';
import { blindIndexWith, decryptWith, encryptWith, isEncrypted, keyIdOf, type BlindIndexKey, type EncryptedColumn, type Keyring } from '../../lib/crypto';

/**
 * Re-encryption of the encrypted columns, in batches: `rotate` moves every value that is not under
 * the active key (older keys, and plaintext from before migration 0013) to it; `plaintext` only
 * encrypts values that are still plaintext (start-up after the migration).
 *
 * Resumable: each batch is its own statement and only rows still needing work are selected, so an
 * interrupted run picks up where it stopped (reading the table again from its start, sequentially).
 * Safe next to live writes: a row is only overwritten if it still holds the values that were read (a
 * concurrent update wins; the next run handles it).
 */

interface EncryptedTable { table: string; columns: { name: string; column: EncryptedColumn }[] }
const TABLES: EncryptedTable[] = [
  { table: 'customers', columns: [{ name: 'birth_date', column: 'customers.birth_date' }, { name: 'national_id', column: 'customers.national_id' }] },
  { table: 'interactions', columns: [{ name: 'subject', column: 'interactions.subject' }, { name: 'summary', column: 'interactions.summary' }] },
];

export type ReencryptMode = 'rotate' | 'plaintext';
export interface ReencryptProgress { table: string; done: number; total: number }
export interface ReencryptResult { table: string; rows: number }

/** SQL: does this column's value need work in this mode? */
function needsWork(col: string, mode: ReencryptMode, keyring: Keyring): SQL {
  const c = sql.raw(`"${col}"`);
  if (mode === 'plaintext') return sql`(${c} IS NOT NULL AND left(${c}, 3) <> 'v1:')`;
  const prefix = `v1:${keyring.active}:`;
  return sql`(${c} IS NOT NULL AND left(${c}, ${prefix.length}) <> ${prefix})`;
}

export async function countPending(db: Db, keyring: Keyring, mode: ReencryptMode): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    const [r] = await execRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM ${sql.raw(t.table)}
      WHERE ${sql.join(t.columns.map((c) => needsWork(c.name, mode, keyring)), sql` OR `)}`);
    out[t.table] = Number(r?.n ?? 0);
  }
  return out;
}

export async function reencryptAll(
  db: Db, keyring: Keyring, mode: ReencryptMode,
  opts: { batchSize?: number; blocksPerScan?: number; onProgress?: (p: ReencryptProgress) => void } = {},
): Promise<ReencryptResult[]> {
  const batchSize = opts.batchSize ?? 1000;
  const blocksPerScan = opts.blocksPerScan ?? 1024;
  const totals = await countPending(db, keyring, mode);
  const results: ReencryptResult[] = [];
  for (const t of TABLES) {
    const total = totals[t.table] ?? 0;
    let done = 0;
    const cols = t.columns.map((c) => sql.raw(`"${c.name}"`));
    const pending = sql.join(t.columns.map((c) => needsWork(c.name, mode, keyring)), sql` OR `);
    // The table is walked in physical order, a range of blocks at a time (a TID range scan: sequential
    // reads). Walking it by id read one random heap page per row on a table larger than the cache
    // (800 rows/s on 4.7M interactions). Within a range, batches follow the ctid: a rewritten row's new
    // version is no longer pending, and a row the UPDATE skipped (changed meanwhile) is left to the
    // next run instead of being read again. Rows added while it runs are covered by measuring the
    // table again after each range.
    let from = 0;
    for (let end = await tableBlocks(db, t.table); from < end; end = Math.max(end, await tableBlocks(db, t.table))) {
      const to = from + blocksPerScan;
      // Tuple offsets start at 1: "after (from,0)" is the whole first block.
      let after = `(${from},0)`;
      for (;;) {
        const rows = await execRows<Record<string, string | null> & { id: string; tid: string }>(db, sql`
          SELECT ctid::text AS tid, id::text AS id, ${sql.join(cols, sql`, `)} FROM ${sql.raw(t.table)}
          WHERE ctid > ${after}::tid AND ctid < ${`(${to},0)`}::tid AND (${pending})
          ORDER BY ctid LIMIT ${batchSize}`);
        if (!rows.length) break;
        after = rows[rows.length - 1]!.tid;
        const fresh = rows.map((r) => t.columns.map((c) => {
          const v = r[c.name] ?? null;
          if (v === null) return null;
          if (mode === 'plaintext' && isEncrypted(v)) return v;
          if (mode === 'rotate' && keyIdOf(v) === keyring.active) return v;
          return encryptWith(keyring, c.column, decryptWith(keyring, c.column, v));
        }));
        // unnest of parallel arrays: one UPDATE per batch, each row found by its ctid (and id); the old
        // values guard against concurrent writes (a row changed since it was read is left to the next run).
        await db.execute(sql`UPDATE ${sql.raw(t.table)} AS t SET ${sql.join(t.columns.map((c, i) => sql`${sql.raw(`"${c.name}"`)} = v.${sql.raw(`n${i}`)}`), sql`, `)}
          FROM unnest(${sql.param(rows.map((r) => r.tid))}::text[]::tid[], ${sql.param(rows.map((r) => r.id))}::uuid[],
            ${sql.join(t.columns.map((c) => sql`${sql.param(rows.map((r) => r[c.name] ?? null))}::text[]`), sql`, `)},
            ${sql.join(t.columns.map((_, i) => sql`${sql.param(fresh.map((f) => f[i] ?? null))}::text[]`), sql`, `)})
            AS v(tid, id, ${sql.raw(t.columns.map((_, i) => `o${i}`).join(', '))}, ${sql.raw(t.columns.map((_, i) => `n${i}`).join(', '))})
          WHERE t.ctid = v.tid AND t.id = v.id AND ${sql.join(t.columns.map((c, i) => sql`t.${sql.raw(`"${c.name}"`)} IS NOT DISTINCT FROM v.${sql.raw(`o${i}`)}`), sql` AND `)}`);
        done += rows.length;
        opts.onProgress?.({ table: t.table, done, total });
        if (rows.length < batchSize) break;
      }
      from = to;
    }
    results.push({ table: t.table, rows: done });
  }
  return results;
}

/** Blocks of a table's main fork now (ranges at and beyond it are empty). */
async function tableBlocks(db: Db, table: string): Promise<number> {
  const [r] = await execRows<{ n: number }>(db, sql`SELECT (pg_relation_size(${table}::regclass) / current_setting('block_size')::int)::int AS n`);
  return Number(r?.n ?? 0);
}

/**
 * After migration 0013 (or a restore of an old dump): encrypts what is still plaintext, before the
 * gateway serves. A no-op (two counts) on an encrypted database.
 */
export async function encryptRemainingPlaintext(db: Db, keyring: Keyring, log: (msg: string, data: Record<string, unknown>) => void): Promise<number> {
  const pending = await countPending(db, keyring, 'plaintext');
  const total = Object.values(pending).reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  log('encrypting plaintext values of encrypted columns', { pending });
  let lastLogged = 0;
  const results = await reencryptAll(db, keyring, 'plaintext', {
    batchSize: 2000,
    onProgress: (p) => {
      if (p.done - lastLogged >= 50_000 || p.done === p.total) { lastLogged = p.done; log('encrypting', { ...p }); }
    },
  });
  return results.reduce((a, r) => a + r.rows, 0);
}


/**
 * Blind indexes (src/lib/crypto.ts) that are missing or were made under another PRIVACY_HASH_KEY:
 * rows written before migration 0018, or after the key changed. Each value is decrypted and its index
 * recomputed, in batches (one UPDATE each, resumable like reencryptAll); a row is only updated if its
 * birth date is still the one that was read. A no-op (one scan) when every index is current. Key
 * rotation of ENCRYPTION_KEYS does not touch blind indexes: they depend on the clear value only.
 */
export async function fillBlindIndexes(
  db: Db, keyring: Keyring, key: BlindIndexKey,
  opts: { batchSize?: number; onProgress?: (p: { done: number }) => void } = {},
): Promise<number> {
  const batchSize = opts.batchSize ?? 2000;
  const prefix = `${key.fingerprint}:`;
  const stale = sql`((birth_date IS NOT NULL AND (birth_date_bidx IS NULL OR left(birth_date_bidx, ${prefix.length}) <> ${prefix}))
    OR (birth_date IS NULL AND birth_date_bidx IS NOT NULL))`;
  let done = 0;
  let lastId = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await execRows<{ id: string; birth_date: string | null }>(db, sql`SELECT id::text AS id, birth_date FROM customers
      WHERE id > ${lastId}::uuid AND ${stale} ORDER BY id LIMIT ${batchSize}`);
    if (!rows.length) break;
    lastId = rows[rows.length - 1]!.id;
    const fresh = rows.map((r) => (r.birth_date === null ? null : blindIndexWith(key, 'customers.birth_date', decryptWith(keyring, 'customers.birth_date', r.birth_date))));
    await db.execute(sql`UPDATE customers AS t SET birth_date_bidx = v.b
      FROM unnest(${sql.param(rows.map((r) => r.id))}::uuid[], ${sql.param(rows.map((r) => r.birth_date))}::text[], ${sql.param(fresh)}::text[]) AS v(id, o, b)
      WHERE t.id = v.id AND t.birth_date IS NOT DISTINCT FROM v.o`);
    done += rows.length;
    opts.onProgress?.({ done });
  }
  return done;
}
