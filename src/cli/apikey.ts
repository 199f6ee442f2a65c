import { Command, Option } from 'commander';
import { allowListableFields } from '../auth/privacy';
import { ConfigError, loadConfig } from '../config';
import { openDb } from '../db/client';
import { migrateDb } from '../db/migrate';
import { createApiKey, listApiKeys, revokeApiKeyByPrefix, SCOPES } from '../modules/admin/admin.service';
import { buildBareSchema } from '../schema';
import type { Role } from '../__generated__/resolvers-types';

/** `npm run apikey -- create|list|revoke`: the same service the ADMIN mutations use. */
async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDb>>['db']) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const handle = await openDb(config);
  try {
    await migrateDb(handle);
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}

function fail(e: unknown): never {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `apikey: ${e instanceof Error ? e.message : String(e)}`}\n`);
  process.exit(1);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const program = new Command().name('npm run apikey --').description('Create, list and revoke API keys for partners and service accounts.');

program.command('create')
  .description('Create a key and print its secret once (stdout); store it now, it cannot be shown again.')
  .requiredOption('-n, --name <name>', 'who or what the key is for')
  .addOption(new Option('-r, --role <role>', 'PARTNER, or the role a service account acts as').choices(['PARTNER', 'ADMIN', 'AGENT', 'MARKETER', 'ANALYST']).default('PARTNER'))
  .requiredOption('-s, --scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`, list)
  .option('-f, --fields <list>', 'personal-data fields a PARTNER may read, e.g. Customer.email,Customer.phone', list, [])
  .option('-p, --purpose <purpose>', 'consent purpose visible customers must have granted (required for PARTNER)')
  .option('-c, --countries <list>', 'only customers in these ISO countries', list)
  .option('--rate <perMinute>', 'requests per minute', (v) => Number(v))
  .option('--max-cost <cost>', 'query cost budget', (v) => Number(v))
  .option('--persisted-only', 'accept only persisted operations (manifest or registered APQ hashes)', false)
  .option('--expires-in-days <days>', 'lifetime in days (1-730)', (v) => Number(v), 90)
  .addHelpText('after', `
Example:
  npm run -s apikey -- create --name "Acme loyalty" --scopes customers:read,tags:read \\
    --fields Customer.email --purpose partner_sharing --countries DE,AT --rate 120`)
  .action(async (o: { name: string; role: Role; scopes: string[]; fields: string[]; purpose?: string; countries?: string[]; rate?: number; maxCost?: number; persistedOnly: boolean; expiresInDays: number }) => {
    try {
      const fields = allowListableFields(buildBareSchema());
      const { created, userErrors } = await withDb((db) => createApiKey(db, 'cli', {
        name: o.name, role: o.role, scopes: o.scopes, fieldAllowList: o.fields, purpose: o.purpose ?? null, countries: o.countries ?? null,
        rateLimitPerMinute: o.rate ?? null, maxCost: o.maxCost ?? null, persistedOnly: o.persistedOnly, expiresInDays: o.expiresInDays,
      }, fields));
      if (!created) {
        for (const e of userErrors) process.stderr.write(`${e.field.slice(1).join('.')}: ${e.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`created key ${created.apiKey.prefix} (${created.apiKey.role}, expires ${created.apiKey.expiresAt?.toISOString()})\n`);
      process.stdout.write(`${created.secret}\n`);
    } catch (e) { fail(e); }
  });

program.command('list').description('List keys (never their secrets).').action(async () => {
  try {
    const keys = await withDb((db) => listApiKeys(db));
    for (const k of keys) {
      const state = k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt < new Date() ? 'expired' : 'active';
      process.stdout.write(`${k.prefix}  ${state.padEnd(7)}  ${k.role.padEnd(8)}  ${k.name}  scopes=${k.scopes.join(',')}  purpose=${k.purpose ?? '-'}  last used ${k.lastUsedAt?.toISOString() ?? 'never'}\n`);
    }
    if (!keys.length) process.stdout.write('no keys\n');
  } catch (e) { fail(e); }
});

program.command('revoke').description('Revoke a key at once.').argument('<prefix>', 'the prefix shown by list').action(async (prefix: string) => {
  try {
    const row = await withDb((db) => revokeApiKeyByPrefix(db, prefix));
    if (!row) { process.stderr.write(`no key with prefix ${prefix}\n`); process.exit(1); }
    process.stdout.write(`revoked ${row.prefix} (${row.name})\n`);
  } catch (e) { fail(e); }
});

await program.parseAsync();
