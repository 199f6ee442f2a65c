/**
 * The `npm run import` command as a function (src/cli/import.ts runs it; tests call it on PGlite):
 * arguments, progress on the terminal (a bar on a TTY, plain lines otherwise) and the summary.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { Config } from '../../config';
import type { DbHandle } from '../../db/client';
import { resolvePrivacyHashKey } from '../../auth/privacy';
import { ENTITIES, type Entity } from './entities';
import type { MatchRule } from './identity';
import { ImportInterrupted, runImport, type ImportProgress, type ImportSummary } from './import.service';
import { heartbeatRuns, markStaleRuns, RUN_HEARTBEAT_MS } from './import.repository';

export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Draw a live progress bar (stderr is a terminal); otherwise a progress line every 5 s, on stderr too (stdout is for the summary). */
  tty: boolean;
  stream?: NodeJS.WritableStream;
}

interface Opts {
  source: string; customerSource?: string; format?: 'csv' | 'ndjson'; encoding?: string; delimiter?: string; map: string[]; mapping?: string;
  dryRun?: boolean; errors?: string; batchSize?: number; dateOrder?: 'DMY' | 'MDY'; decimalSeparator?: 'auto' | '.' | ','; match?: string;
  sourcePriority?: string; json?: boolean; stopAfterBatches?: number;
}

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new InvalidArgumentError('expected a whole number from 1 to 100,000.');
  return n;
};
const collect = (v: string, prev: string[]) => [...prev, v];

export function importProgram(): Command {
  return new Command()
    .name('npm run import --')
    .description('Import customers, identities, transactions (with items), interactions, tags or consents from a CSV or NDJSON file. '
      + 'Rows are cleaned and standardized with the rules of the GraphQL mutations, customers are matched to existing ones (external id, '
      + 'email, phone) with field survivorship, and every batch is applied in one transaction by set-based statements. Re-running a file '
      + 'changes nothing; an interrupted run can simply be run again. The database comes from DATABASE_URL (or PGlite in PGLITE_DIR).')
    .argument('<entity>', `what the file holds: ${ENTITIES.join(', ')}`)
    .argument('<file>', 'CSV (any delimiter, UTF-8/UTF-16/Latin-1, BOM, quoted fields, CRLF) or NDJSON (.ndjson, .jsonl)')
    .requiredOption('--source <system>', 'source system of the records, e.g. crm, shop, pos (the key of their external ids)')
    .option('--customer-source <system>', 'source of the customer references (customer_external_id) in non-customer files (default: --source)')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(['csv', 'ndjson']))
    .option('--encoding <name>', 'character encoding (default: detected)')
    .option('--delimiter <char>', 'CSV delimiter (default: detected among , ; tab |)')
    .option('--map <column=Header>', 'read a column from a differently named header (repeatable), e.g. --map email="E-Mail Adresse"', collect, [])
    .option('--mapping <file.json>', 'JSON object of column -> header, e.g. {"external_id": "Kundennummer"}')
    .option('--dry-run', 'clean, resolve and report everything, then roll back: nothing is written')
    .option('--errors <file>', 'where rejected rows go (default: <input>.errors.csv or .ndjson next to the input)')
    .option('--batch-size <n>', 'rows per transaction (default INGEST_BATCH_SIZE, 2,500)', positive)
    .addOption(new Option('--date-order <order>', 'how to read ambiguous dates like 02/03/2025 (default INGEST_DATE_ORDER)').choices(['DMY', 'MDY']))
    .addOption(new Option('--decimal-separator <sep>', 'decimal separator of amounts (default: auto, either works)').choices(['auto', '.', ',']))
    .option('--match <rules>', 'identity rules in priority order (default INGEST_MATCH_RULES: external_id,email,phone)')
    .option('--source-priority <sources>', 'sources, most trusted first (default INGEST_SOURCE_PRIORITY)')
    .option('--json', 'print the summary as JSON')
    .addOption(new Option('--stop-after-batches <n>', 'stop after n committed batches, as if killed (testing recovery)').argParser(positive).hideHelp())
    .addHelpText('after', `
Columns (header names are matched case- and punctuation-insensitively, with common synonyms such as "E-Mail", "zip", "Vorname"):
  customers      external_id (required), first_name, last_name, email, phone, birth_date, gender, address_line1, address_line2,
                 city, region, postal_code, country, lifecycle_stage, updated_at
  identities     customer_external_id (+ customer_source) or customer_id; external_id; source (default --source)
  transactions   external_id, customer_external_id, occurred_at, type (ORDER|REFUND), status, channel, store, currency, amount,
                 items (JSON array in NDJSON) or one row per line item: item_sku, item_product_name, item_category, item_quantity, item_unit_price
  interactions   external_id, customer_external_id, channel, type, direction, subject, summary, sentiment, status, agent, occurred_at
  tags           customer_external_id, tag (key of a tag definition), value, assigned_at, expires_at
  consents       customer_external_id, purpose, status (GRANTED|DENIED|WITHDRAWN), recorded_at, source

Examples:
  npm run import -- customers crm-export.csv --source crm
  npm run import -- customers shop.ndjson --source shop --dry-run
  npm run import -- transactions orders.csv --source shop --customer-source crm --map external_id="Order No"
  npm run import -- consents consents.csv --source web --errors /tmp/consent-errors.csv

Every rejected row is written to the error report with its row number, line, field, reason and original values; rows read
always equals rows stored plus rows rejected. Exit code 0 when the file was processed (even with rejected rows), 1 otherwise.`)
    .showHelpAfterError('(run with --help for usage)');
}

export interface ImportCommandDeps { handle: DbHandle; config: Config; io: CommandIo }

/** Parses `argv` (without node and script) and runs the import; returns the exit code. */
export async function importCommand(argv: string[], deps: ImportCommandDeps): Promise<number> {
  const { io, config } = deps;
  const program = importProgram().exitOverride().configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    throw e;
  }
  const [entityArg, file] = program.args as [string, string];
  const o = program.opts<Opts>();
  if (!(ENTITIES as readonly string[]).includes(entityArg)) {
    io.err(`import: unknown entity "${entityArg}" (one of ${ENTITIES.join(', ')})`);
    return 1;
  }
  const mapping: Record<string, string> = {};
  try {
    if (o.mapping) Object.assign(mapping, JSON.parse(readFileSync(o.mapping, 'utf8')) as Record<string, string>);
  } catch (e) {
    io.err(`import: cannot read the mapping file ${o.mapping}: ${(e as Error).message}`);
    return 1;
  }
  for (const m of o.map) {
    const i = m.indexOf('=');
    if (i < 1) { io.err(`import: --map expects column=Header, got "${m}"`); return 1; }
    mapping[m.slice(0, i).trim()] = m.slice(i + 1);
  }
  const matchRules = (o.match ?? config.ingest.matchRules.join(',')).split(',').map((s) => s.trim()) as MatchRule[];
  if (!matchRules.every((r) => ['external_id', 'email', 'phone'].includes(r))) { io.err('import: --match takes external_id, email, phone'); return 1; }

  const reporter = progressReporter(io);
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    if (!o.dryRun) {
      // Runs of imports that were killed (kill -9, crash) would stay RUNNING forever.
      for (const r of await markStaleRuns(deps.handle.db)) io.err(`import: run ${r.id} (${r.entity} from ${r.fileName}) was interrupted; marked INTERRUPTED`);
      heartbeat = setInterval(() => { heartbeatRuns(deps.handle.db).catch(() => {}); }, RUN_HEARTBEAT_MS);
      heartbeat.unref();
    }
    const summary = await runImport(deps.handle.db, {
      entity: entityArg as Entity, file, source: o.source, customerSource: o.customerSource, format: o.format, encoding: o.encoding, delimiter: o.delimiter,
      mapping, dryRun: o.dryRun, errorsFile: o.errors, batchSize: o.batchSize ?? config.ingest.batchSize, defaultPhoneRegion: config.defaultPhoneRegion,
      baseCurrency: config.baseCurrency, dateOrder: o.dateOrder ?? config.ingest.dateOrder, decimalSeparator: o.decimalSeparator ?? 'auto',
      resolution: { matchRules, blockedValues: config.ingest.blockedValues, sourcePriority: o.sourcePriority?.split(',') ?? config.ingest.sourcePriority },
      privacyHashKey: resolvePrivacyHashKey(config), onProgress: (p) => reporter.progress(p), stopAfterBatches: o.stopAfterBatches,
    });
    reporter.stop();
    // maxRSS is in KiB: the peak resident memory of this process so far (the benchmark reads it).
    if (o.json) io.out(JSON.stringify({ ...summary, peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
    else printSummary(io, summary);
    return 0;
  } catch (e) {
    reporter.stop();
    if (e instanceof ImportInterrupted) { io.err(`import: ${e.message}; run the same command again to finish`); return 1; }
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') { io.err(`import: no such file: ${file}`); return 1; }
    // Drizzle wraps driver errors ("Failed query: ..."); the driver's message is the useful part.
    const cause = (e as { cause?: unknown }).cause;
    io.err(`import: error: ${cause instanceof Error ? cause.message : (e as Error).message.split('\n')[0]}`);
    return 1;
  } finally {
    clearInterval(heartbeat);
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const duration = (ms: number) => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

function progressReporter(io: CommandIo): { progress(p: ImportProgress): void; stop(): void } {
  const started = performance.now();
  const rate = (rows: number) => rows / Math.max(0.001, (performance.now() - started) / 1000);
  const eta = (p: ImportProgress) => (p.bytesRead > 0 && p.totalBytes > 0 ? duration(((performance.now() - started) * (p.totalBytes - p.bytesRead)) / p.bytesRead) : '-');
  if (io.tty) {
    const bar = new cliProgress.SingleBar({
      format: '{bar} {percentage}% | {rows} rows | {rate} rows/s | {rejected} rejected | ETA {left}',
      stream: io.stream ?? process.stderr, barsize: 15, hideCursor: true, fps: 5,
    }, cliProgress.Presets.shades_classic);
    let startedBar = false;
    return {
      progress(p) {
        if (!startedBar) { bar.start(Math.max(1, p.totalBytes), 0, { rows: '0', rate: '0', rejected: '0', left: '-' }); startedBar = true; }
        bar.update(p.bytesRead, { rows: fmt(p.rowsRead), rate: fmt(rate(p.rowsRead)), rejected: fmt(p.rejected), left: eta(p) });
      },
      stop: () => { if (startedBar) bar.stop(); },
    };
  }
  let last = started;
  return {
    progress(p) {
      const now = performance.now();
      if (now - last < 5000) return;
      last = now;
      const pct = p.totalBytes > 0 ? Math.floor((p.bytesRead / p.totalBytes) * 100) : 100;
      io.err(`import: ${pct}% of the file, ${fmt(p.rowsRead)} rows read, ${fmt(p.stored)} stored, ${fmt(p.rejected)} rejected, ${fmt(rate(p.rowsRead))} rows/s, ETA ${eta(p)}`);
    },
    stop() {},
  };
}

function printSummary(io: CommandIo, s: ImportSummary): void {
  io.out(`${s.dryRun ? 'Dry run (nothing written): ' : ''}${s.entity} from ${s.file} (${s.format}, ${s.encoding}${s.delimiter ? `, delimiter ${JSON.stringify(s.delimiter)}` : ''}), source ${s.source}, in ${duration(s.durationMs)}`);
  io.out(`  rows read ${fmt(s.rowsRead)} = stored ${fmt(s.stored)} + rejected ${fmt(s.rejected)}   (${fmt(s.rowsRead / Math.max(0.001, s.durationMs / 1000))} rows/s, ${s.batches} batches)`);
  io.out(`  ${s.entity === 'customers' ? 'customers' : 'records'}: ${fmt(s.created)} created, ${fmt(s.updated)} updated, ${fmt(s.unchanged)} unchanged rows`);
  if (s.entity === 'customers') io.out(`  matched to existing customers by external id ${fmt(s.matchedBy.external_id)}, email ${fmt(s.matchedBy.email)}, phone ${fmt(s.matchedBy.phone)}`);
  if (s.columns.length) {
    const w = Math.max(...s.columns.map((c) => c.column.length), 6);
    io.out(`  ${'column'.padEnd(w)}  filled   invalid`);
    for (const c of s.columns) io.out(`  ${c.column.padEnd(w)}  ${`${c.filledPct.toFixed(1)}%`.padStart(6)}  ${`${c.invalidPct.toFixed(1)}%`.padStart(7)}`);
  }
  if (s.ignoredHeaders.length) io.out(`  ignored headers (map them with --map column=Header): ${s.ignoredHeaders.join(', ')}`);
  if (s.errorsFile) io.out(`  rejected rows and reasons: ${s.errorsFile}`);
}
