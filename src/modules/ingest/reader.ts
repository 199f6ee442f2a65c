/**
 * Reading import files as a stream of records, in constant memory: CSV (csv-parse; delimiter and
 * encoding detected, BOM, quoted fields with newlines, CRLF) and NDJSON (one JSON object per line).
 * Headers are mapped to the entity's column names here; values stay raw (cleaning is entities.ts).
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import chardet from 'chardet';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';

export type FileFormat = 'csv' | 'ndjson';

export interface RawRecord {
  /** 1-based number of the data record (the header is not counted). */
  rowNo: number;
  /** Line of the file where the record starts (1-based; quoted newlines make records span lines). */
  line: number;
  /** Mapped column -> raw value (strings from CSV; any JSON value from NDJSON). */
  values: Record<string, unknown>;
  /** The record as read, under its original headers (for the error report). */
  original: Record<string, unknown>;
  /** Why the record could not be read at all (bad JSON, wrong number of fields); values are empty then. */
  readError?: string;
}

export interface ReaderOptions {
  format?: FileFormat;
  /** Default: detected (BOM, UTF-8 validity, then chardet). */
  encoding?: string;
  /** CSV only. Default: detected from the header line among `,` `;` tab `|`. */
  delimiter?: string;
  /** Entity column -> header in the file (from --map or --mapping). */
  mapping?: Record<string, string>;
  /** Known columns of the entity and their aliases (canonical form, see canonicalHeader). */
  columns: ReadonlySet<string>;
  aliases: Readonly<Record<string, string>>;
  /** Called with the number of bytes read so far (progress). */
  onBytes?: (bytes: number) => void;
}

export interface OpenedFile {
  format: FileFormat;
  encoding: string;
  delimiter: string | null;
  sizeBytes: number;
  /** Header in the file -> column it feeds (null = ignored); known after the first record (CSV) or line (NDJSON). */
  headerMap: Map<string, string | null>;
  records: AsyncGenerator<RawRecord>;
}

/** `First Name`, `firstName`, `first-name` -> `first_name`. */
export function canonicalHeader(h: string): string {
  return h.trim().replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

export function formatOf(file: string, given?: FileFormat): FileFormat {
  if (given) return given;
  return /\.(ndjson|jsonl|json)$/i.test(file) ? 'ndjson' : 'csv';
}

const SAMPLE_BYTES = 64 * 1024;

/** Encoding of a file from its first bytes: BOM, else valid UTF-8, else chardet's guess (windows-1252 when unsure). */
export function detectEncoding(sample: Buffer): string {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf-8';
  if (sample[0] === 0xff && sample[1] === 0xfe) return 'utf-16le';
  if (sample[0] === 0xfe && sample[1] === 0xff) return 'utf-16be';
  // A multi-byte character may be cut at the end of the sample.
  const body = sample.length === SAMPLE_BYTES ? sample.subarray(0, sample.length - 4) : sample;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return 'utf-8';
  } catch { /* not UTF-8 */ }
  const guess = chardet.detect(sample)?.toLowerCase();
  if (guess && guess !== 'utf-8' && iconv.encodingExists(guess)) return guess;
  return 'windows-1252';
}

/** The delimiter that occurs most often outside quotes on the first line. */
export function detectDelimiter(text: string): string {
  const candidates = [',', ';', '\t', '|'];
  const counts = new Map(candidates.map((c) => [c, 0]));
  let quoted = false;
  for (const ch of text.replace(/^\uFEFF/, '')) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  let max = 0;
  for (const [c, n] of counts) if (n > max) { best = c; max = n; }
  return best;
}

export async function openRecords(file: string, opts: ReaderOptions): Promise<OpenedFile> {
  const format = formatOf(file, opts.format);
  const { size } = await stat(file);
  const fh = await open(file, 'r');
  const sample = Buffer.alloc(Math.min(SAMPLE_BYTES, size));
  try { await fh.read(sample, 0, sample.length, 0); } finally { await fh.close(); }
  const encoding = opts.encoding ?? detectEncoding(sample);
  if (!iconv.encodingExists(encoding)) throw new Error(`unknown encoding ${encoding}`);
  const delimiter = format === 'csv' ? (opts.delimiter ?? detectDelimiter(iconv.decode(sample, encoding))) : null;
  const headerMap = new Map<string, string | null>();
  const reverse = new Map(Object.entries(opts.mapping ?? {}).map(([column, header]) => [header, column]));
  const mapHeader = (h: string): string | null => {
    const explicit = reverse.get(h) ?? reverse.get(h.trim());
    if (explicit) return explicit;
    const c = canonicalHeader(h);
    if (opts.columns.has(c)) return c;
    return opts.aliases[c] ?? null;
  };

  const bytes = createReadStream(file);
  let read = 0;
  bytes.on('data', (chunk) => { read += chunk.length; opts.onBytes?.(read); });
  // iconv strips the BOM of every Unicode encoding.
  const text = bytes.pipe(iconv.decodeStream(encoding)) as unknown as Readable;
  text.on('error', () => {});
  bytes.on('error', (err) => text.destroy(err));

  async function* csvRecords(): AsyncGenerator<RawRecord> {
    const parser = text.pipe(parse({ delimiter: delimiter!, bom: true, relax_column_count: true, skip_empty_lines: true, info: true, raw: true }));
    let header: string[] | null = null;
    let columns: (string | null)[] = [];
    let rowNo = 0;
    // Line where the next record starts: counted from the raw text of each record (quoted newlines included).
    let nextLine = 1;
    for await (const item of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const { record, raw } = item;
      const line = nextLine;
      nextLine += raw.match(/\r\n|\n|\r/g)?.length ?? 0;
      if (!header) {
        header = record.map((h) => h.trim());
        columns = header.map(mapHeader);
        header.forEach((h, i) => headerMap.set(h, columns[i] ?? null));
        continue;
      }
      rowNo++;
      const original: Record<string, unknown> = {};
      const values: Record<string, unknown> = {};
      record.forEach((v, i) => {
        const h = header![i] ?? `column_${i + 1}`;
        original[h] = v;
        const col = columns[i];
        if (col) values[col] = v;
      });
      if (record.length !== header.length) {
        yield { rowNo, line, values: {}, original, readError: `expected ${header.length} fields, found ${record.length}` };
      } else {
        yield { rowNo, line, values, original };
      }
    }
  }

  async function* ndjsonRecords(): AsyncGenerator<RawRecord> {
    const lines = createInterface({ input: text, crlfDelay: Infinity });
    let lineNo = 0;
    let rowNo = 0;
    for await (const raw of lines) {
      lineNo++;
      const l = (lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
      if (!l) continue;
      rowNo++;
      let obj: unknown;
      try { obj = JSON.parse(l); } catch (e) {
        yield { rowNo, line: lineNo, values: {}, original: { line: l.slice(0, 1000) }, readError: `not valid JSON (${(e as Error).message})` };
        continue;
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        yield { rowNo, line: lineNo, values: {}, original: { line: l.slice(0, 1000) }, readError: 'a line must hold one JSON object' };
        continue;
      }
      const values: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        if (!headerMap.has(k)) headerMap.set(k, mapHeader(k));
        const col = headerMap.get(k);
        if (col) values[col] = v;
      }
      yield { rowNo, line: lineNo, values, original: obj as Record<string, unknown> };
    }
  }

  return { format, encoding, delimiter, sizeBytes: size, headerMap, records: format === 'csv' ? csvRecords() : ndjsonRecords() };
}
