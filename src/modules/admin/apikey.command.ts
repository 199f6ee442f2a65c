/**
 * The `npm run apikey` command as a function (src/cli/apikey.ts runs it; tests call it on their
 * database): create, list and revoke keys through the same service the ADMIN mutations use.
 */
import { Command, CommanderError, Option } from 'commander';
import type { GraphQLSchema } from 'graphql';
import { privacyPolicy } from '../../schema';
import { allowListableFields } from '../../auth/privacy';
import { ConfigError } from '../../config';
import type { Db } from '../../db/client';
import { toGlobalId } from '../../lib/global-id';
import type { Role } from '../../__generated__/resolvers-types';
import { segmentsByIds } from '../segments';
import type { ApiKeyRow } from './admin.mappers';
import { createApiKey, listApiKeys, revokeApiKeyByPrefix, SCOPES } from './admin.service';

export interface ApikeyCommandDeps {
  /** Opens (and migrates) the database only for commands that need one: `--help` works without. */
  withDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  /** The schema whose @pii fields an allow-list may name. */
  schema: () => GraphQLSchema;
  io: { out: (line: string) => void; err: (line: string) => void };
}

interface CreateOpts {
  name: string; role: Role; scopes: string[]; fields: string[]; purpose?: string; countries?: string[]; segment: string[];
  rate?: number; burst?: number; maxCost?: number; persistedOnly: boolean; expiresInDays: number;
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const collect = (v: string, prev: string[]) => [...prev, v];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `--segment` takes what an operator has at hand: the GraphQL Segment id or the row's uuid. */
const segmentGlobalId = (v: string) => (UUID.test(v.trim()) ? toGlobalId('Segment', v.trim().toLowerCase()) : v.trim());

/** Input fields of `createApiKey` as the options that set them, so a refusal names what to fix. */
const OPTION_OF: Record<string, string> = {
  name: '--name', role: '--role', scopes: '--scopes', fieldAllowList: '--fields', purpose: '--purpose', countries: '--countries',
  segmentIds: '--segment', rateLimitPerMinute: '--rate', rateLimitBurst: '--burst', maxCost: '--max-cost', expiresInDays: '--expires-in-days',
};

/** Parses `argv` (without node and script) and runs the subcommand; returns the exit code. */
export async function apikeyCommand(argv: string[], deps: ApikeyCommandDeps): Promise<number> {
  const { io } = deps;
  let code = 0;
  const program = new Command().name('npm run apikey --').description('Create, list and revoke API keys for partners and service accounts.')
    .exitOverride().configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program.command('create')
    .description('Create a key and print its secret once (stdout); store it now, it cannot be shown again.')
    .requiredOption('-n, --name <name>', 'who or what the key is for')
    .addOption(new Option('-r, --role <role>', 'PARTNER, or the role a service account acts as').choices(['PARTNER', 'ADMIN', 'AGENT', 'MARKETER', 'ANALYST']).default('PARTNER'))
    .requiredOption('-s, --scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`, list)
    .option('-f, --fields <list>', 'personal-data fields a PARTNER may read, e.g. Customer.email,Customer.phone', list, [])
    .option('-p, --purpose <purpose>', 'consent purpose visible customers must have granted (required for PARTNER)')
    .option('-c, --countries <list>', 'only customers in these ISO countries', list)
    .option('--segment <id>', 'only members of this segment (Segment id or uuid; repeatable: members of any of them)', collect, [])
    .option('--rate <perMinute>', 'requests per minute', (v) => Number(v))
    .option('--burst <requests>', 'requests the key may make at once (default: --rate, at most RATE_LIMIT_BURST)', (v) => Number(v))
    .option('--max-cost <cost>', 'query cost budget', (v) => Number(v))
    .option('--persisted-only', 'accept only persisted operations (manifest or registered APQ hashes)', false)
    .option('--expires-in-days <days>', 'lifetime in days (1-730)', (v) => Number(v), 90)
    .addHelpText('after', `
Rate: a key makes up to --burst requests at once, then --rate per minute on average (the budget is
--burst requests per window of burst/rate minutes; a refused request is HTTP 429 RATE_LIMITED with
Retry-After). Without --burst: the --rate, at most RATE_LIMIT_BURST (default 60).

Row scope: a key sees only customers who granted --purpose, AND (when given) who are in one of --countries,
AND who are members of at least one --segment. Segment membership is the materialized one: a customer who
leaves the segment (refresh, member edit) is no longer visible; an archived segment has no members.
Unknown or archived segments are refused (exit code 1).

Example:
  npm run -s apikey -- create --name "Acme loyalty" --scopes customers:read,tags:read \\
    --fields Customer.email --purpose partner_sharing --countries DE,AT --rate 120 --burst 60 \\
    --segment U2VnbWVudDo2ZjFj... --segment 0b7e4c1a-3d2f-4e5a-9b8c-7d6e5f4a3b2c`)
    .action(async (o: CreateOpts) => {
      const fields = allowListableFields(deps.schema(), privacyPolicy());
      const segmentArgs = o.segment.map((s) => s.trim());
      const { created, userErrors } = await deps.withDb((db) => createApiKey(db, 'cli', {
        name: o.name, role: o.role, scopes: o.scopes, fieldAllowList: o.fields, purpose: o.purpose ?? null, countries: o.countries ?? null,
        segmentIds: segmentArgs.length ? segmentArgs.map(segmentGlobalId) : null,
        rateLimitPerMinute: o.rate ?? null, rateLimitBurst: o.burst ?? null, maxCost: o.maxCost ?? null, persistedOnly: o.persistedOnly, expiresInDays: o.expiresInDays,
      }, fields));
      if (!created) {
        for (const e of userErrors) {
          const option = OPTION_OF[e.field[1] ?? ''] ?? e.field.slice(1).join('.');
          // Per-segment problems carry the position: name the value as it was typed.
          const at = e.field[1] === 'segmentIds' && e.field[2] !== undefined ? ` ${segmentArgs[Number(e.field[2])]}` : '';
          io.err(`apikey: ${option}${at}: ${e.message}`);
        }
        code = 1;
        return;
      }
      io.err(`created key ${created.apiKey.prefix} (${created.apiKey.role}, expires ${created.apiKey.expiresAt?.toISOString()})`);
      io.out(created.secret);
    });

  program.command('list').description('List keys (never their secrets) with their row scope.').action(async () => {
    const { keys, segments } = await deps.withDb(async (db) => {
      const keys = await listApiKeys(db);
      return { keys, segments: await segmentsByIds(db, [...new Set(keys.flatMap((k) => k.segmentIds ?? []))]) };
    });
    const byId = new Map(segments.map((s) => [s.id, s]));
    for (const k of keys) io.out(describeKey(k, byId));
    if (!keys.length) io.out('no keys');
  });

  program.command('revoke').description('Revoke a key at once.').argument('<prefix>', 'the prefix shown by list').action(async (prefix: string) => {
    const row = await deps.withDb((db) => revokeApiKeyByPrefix(db, prefix));
    if (!row) { io.err(`apikey: no key with prefix ${prefix}`); code = 1; return; }
    io.out(`revoked ${row.prefix} (${row.name})`);
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.err(e instanceof ConfigError ? e.message : `apikey: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  return code;
}

/** One line per key: state, role, scopes and the whole row scope (purpose, countries, segments by id and name). */
function describeKey(k: ApiKeyRow, segments: ReadonlyMap<string, { name: string; archivedAt: Date | null }>): string {
  const state = k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt < new Date() ? 'expired' : 'active';
  const segs = k.segmentIds?.map((id) => {
    const s = segments.get(id);
    return `${toGlobalId('Segment', id)} (${s ? `${s.name}${s.archivedAt ? ', archived' : ''}` : 'missing'})`;
  });
  return `${k.prefix}  ${state.padEnd(7)}  ${k.role.padEnd(8)}  ${k.name}  scopes=${k.scopes.join(',')}  purpose=${k.purpose ?? '-'}`
    + `  countries=${k.countries?.join(',') ?? '-'}  segments=${segs?.join(',') ?? '-'}  last used ${k.lastUsedAt?.toISOString() ?? 'never'}`;
}
