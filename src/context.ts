import type { SQL } from 'drizzle-orm';
import type { Config } from './config';
import type { Db, QueryStats } from './db/client';
import type { Logger } from './logger';
import type { Loaders } from './loaders';
import type { Viewer } from './auth/viewer';
import type { RequestAudit } from './auth/audit';

/** Everything a resolver may use. Built per request; nothing in it outlives the request. */
export interface Context {
  viewer: Viewer;
  loaders: Loaders;
  db: Db;
  config: Config;
  logger: Logger;
  requestId: string;
  /** Epoch ms after which the request should give up with `TIMEOUT`. */
  deadline: number;
  /** Rows this viewer may see, as a condition over `customers` (API keys with a consent purpose). */
  rowScope: SQL | undefined;
  /** Personal data read and actions taken by this request (written in batches after the response). */
  audit: RequestAudit;
  /** Statements, SQL time, DataLoader batches and replica route of this request (HTTP requests only). */
  stats?: QueryStats;
}
