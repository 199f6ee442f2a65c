import type { NodeReader } from '../lib/module';
import { adminModule } from './admin/module';
import { analyticsModule } from './analytics/module';
import { automationModule } from './automation/module';
import { baseModule } from './base/module';
import { commerceModule } from './commerce/module';
import { contactabilityModule } from './contactability/module';
import { ingestModule } from './ingest/module';
import { profileModule } from './profile/module';
import { segmentsModule } from './segments/module';
import { serviceModule } from './service/module';
import { tagsModule } from './tags/module';

/**
 * The registry: every domain of the gateway, one line each. Nothing else lists modules; the schema,
 * shield tree, privacy table, loaders, look-ahead relations, `node()`, the audit of admin fields and
 * codegen's mappers are assembled from here. The order is the order resolvers, rules and look-ahead
 * relations are merged in (a type or field defined twice is refused, so it decides nothing else).
 */
export const modules = [
  baseModule,
  profileModule,
  tagsModule,
  commerceModule,
  serviceModule,
  analyticsModule,
  adminModule,
  segmentsModule,
  automationModule,
  ingestModule,
  contactabilityModule,
] as const;

let readers: ReadonlyMap<string, NodeReader> | undefined;
/** `node(id)`'s readers by type, from every module's `nodeTypes` (null: the type is not readable through `node`). */
export function nodeReaders(): ReadonlyMap<string, NodeReader> {
  if (readers) return readers;
  const out = new Map<string, NodeReader>();
  for (const m of modules) {
    for (const [type, read] of Object.entries('nodeTypes' in m ? m.nodeTypes : {}) as [string, NodeReader][]) {
      if (out.has(type)) throw new Error(`node: ${type} is declared by two modules`);
      out.set(type, read);
    }
  }
  return (readers = out);
}

/** Root fields whose every call is audited as ADMIN (the audit plugin in src/server.ts). */
export const auditedAdminFields = (): ReadonlySet<string> => new Set(modules.flatMap((m): readonly string[] => ('adminFields' in m ? m.adminFields : [])));
