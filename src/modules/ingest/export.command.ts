/** The `npm run export` command as a function (src/cli/export.ts runs it; tests call it on PGlite). */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { userInfo } from 'node:os';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { GraphQLError } from 'graphql';
import type { Config } from '../../config';
import type { Db, DbHandle } from '../../db/client';
import { auditLog } from '../../db/schema/index';
import type { CustomerFilter } from '../../__generated__/resolvers-types';
import { EXPORT_ENTITIES, UnknownSegment, exportRows, type ExportEntity } from './export.service';
import type { CommandIo } from './import.command';

export function exportProgram(): Command {
  return new Command()
    .name('npm run export --')
    .description('Export customers, transactions or interactions as CSV or NDJSON, streamed page by page (keyset cursor, constant memory). '
      + 'Rows can be limited with a CustomerFilter (the GraphQL filter language, as JSON) or to a segment. Operator tool: it reads the database '
      + 'directly (DATABASE_URL or PGlite in PGLITE_DIR), without the field privacy policy of the API.')
    .argument('<entity>', `what to export: ${EXPORT_ENTITIES.join(', ')}`)
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'ndjson']).makeOptionMandatory())
    .option('--filter <json>', 'a CustomerFilter as JSON, e.g. \'{"countries":["DE"],"quality":{"completeness":{"min":0.5}}}\'')
    .option('--segment <id>', 'only customers of this segment (its materialized membership)')
    .option('--out <file>', 'output file (default: standard output)')
    .option('--page-size <n>', 'rows per statement', (v) => Math.max(1, Math.min(50_000, Number(v) || 5000)), 5000)
    .option('--actor <name>', 'who runs the export, for the audit log (default: the operating-system user)')
    .addHelpText('after', `
Examples:
  npm run -s export -- customers --format csv --out customers.csv
  npm run -s export -- transactions --format ndjson --filter '{"transactions":{"window":{"last":"P90D"}}}' --out recent.ndjson
  npm run -s export -- customers --format csv --segment 1b7c...-uuid --out segment.csv

For customers, the export includes external ids (source:id;...), the profile, and quality (completeness, validity);
transactions carry their items as JSON. Progress goes to stderr (a bar on a terminal). Every finished export is
recorded in the audit log (action ADMIN, actor kind "cli": entity, format, filter, segment, row count), next to
the API's reads. Exit code 0 on success, 1 otherwise.`)
    .showHelpAfterError('(run with --help for usage)');
}

export interface ExportCommandDeps { handle: DbHandle; config: Config; io: CommandIo; stdout?: Writable }

export async function exportCommand(argv: string[], deps: ExportCommandDeps): Promise<number> {
  const { io, config } = deps;
  const program = exportProgram().exitOverride().configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  try { program.parse(argv, { from: 'user' }); } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    throw e;
  }
  const entity = program.args[0] as string;
  const o = program.opts<{ format: 'csv' | 'ndjson'; filter?: string; segment?: string; out?: string; pageSize: number; actor?: string }>();
  if (!(EXPORT_ENTITIES as readonly string[]).includes(entity)) { io.err(`export: unknown entity "${entity}" (one of ${EXPORT_ENTITIES.join(', ')})`); return 1; }
  let filter: CustomerFilter | null = null;
  if (o.filter) {
    try { filter = JSON.parse(o.filter) as CustomerFilter; } catch (e) { io.err(`export: --filter is not valid JSON: ${(e as Error).message}`); return 1; }
  }
  const segmentId = o.segment ? segmentUuid(o.segment) : null;
  if (o.segment && !segmentId) { io.err('export: --segment must be a segment id (uuid or global id)'); return 1; }
  const out: Writable = o.out ? createWriteStream(o.out) : (deps.stdout ?? process.stdout);
  const bar = io.tty ? new cliProgress.SingleBar({ format: '{bar} {percentage}% | {value}/{total} rows | ETA {eta_formatted}', stream: io.stream ?? process.stderr, barsize: 20, fps: 5 }, cliProgress.Presets.shades_classic) : null;
  const started = performance.now();
  let lastLine = started;
  try {
    const n = await exportRows(deps.handle.db, {
      entity: entity as ExportEntity, format: o.format, filter, segmentId, out, pageSize: o.pageSize, defaultPhoneRegion: config.defaultPhoneRegion,
      blockedValues: config.ingest.blockedValues,
      onProgress: (done, total) => {
        if (bar) { if (done === 0) bar.start(Math.max(total, 1), 0); else bar.update(done); return; }
        const now = performance.now();
        if (now - lastLine >= 5000) { lastLine = now; io.err(`export: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} rows`); }
      },
    });
    bar?.stop();
    if (o.out) { out.end(); await finished(out); }
    // A bulk read of personal data: one audit row (not one per customer) saying who took what.
    await recordExport(deps.handle.db, {
      actor: o.actor?.trim() || osUser(), entity, format: o.format, filter: o.filter ?? null, segmentId, rows: n,
    });
    io.err(`export: ${n.toLocaleString('en-US')} ${entity} in ${((performance.now() - started) / 1000).toFixed(1)} s${o.out ? ` -> ${o.out}` : ''}`);
    return 0;
  } catch (e) {
    bar?.stop();
    if (o.out) out.destroy();
    if (e instanceof UnknownSegment) { io.err(`export: ${e.message}`); return 1; }
    const code = (e as GraphQLError).extensions?.code;
    io.err(`export: ${code === 'BAD_USER_INPUT' ? 'bad filter: ' : 'error: '}${(e as Error).message}`);
    return 1;
  }
}

function osUser(): string {
  try { return userInfo().username; } catch { return process.env.USER ?? 'unknown'; }
}

/** `fields` carries what was exported; operation name and request id make it findable like API entries. */
async function recordExport(db: Db, e: { actor: string; entity: string; format: string; filter: string | null; segmentId: string | null; rows: number }): Promise<void> {
  await db.insert(auditLog).values({
    actorKind: 'cli', actorId: e.actor.slice(0, 200), role: 'ADMIN', action: 'ADMIN', customerId: null,
    fields: [`export:${e.entity}`, `format:${e.format}`, `rows:${e.rows}`,
      ...(e.filter ? [`filter:${e.filter.slice(0, 2000)}`] : []), ...(e.segmentId ? [`segment:${e.segmentId}`] : [])],
    operationName: 'npm run export', requestId: randomUUID(),
  });
}

/** A segment's uuid from the uuid itself or a global id (`Segment:<uuid>`, base64url). */
function segmentUuid(v: string): string | null {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (uuid.test(v)) return v.toLowerCase();
  const raw = Buffer.from(v, 'base64url').toString('utf8');
  const m = /^Segment:(.+)$/.exec(raw);
  return m && uuid.test(m[1]!) ? m[1]!.toLowerCase() : null;
}
