import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config';
import { buildManifest } from '../ops/persisted';
import { buildBareSchema } from '../schema';

/** `npm run persisted -- build <folder>`: .graphql documents -> a persisted-operation manifest (sha256 -> document). */
function graphqlFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return graphqlFiles(p);
    return /\.(graphql|gql)$/.test(name) ? [p] : [];
  });
}

const program = new Command().name('npm run persisted --').description('Persisted operations: build the manifest the gateway loads (PERSISTED_OPERATIONS_FILE).');

program.command('build')
  .description('Read every .graphql/.gql file under <folder> (one document each), validate it against the schema, and write the manifest.')
  .argument('<folder>', 'folder of GraphQL documents')
  .option('-o, --out <file>', 'manifest to write', 'persisted-operations.json')
  .action((folder: string, o: { out: string }) => {
    const files = graphqlFiles(folder).map((p) => ({ path: p, text: readFileSync(p, 'utf8') }));
    if (!files.length) { process.stderr.write(`persisted: no .graphql files under ${folder}\n`); process.exit(1); }
    const { manifest, problems } = buildManifest(files, buildBareSchema({ federation: loadConfig().federation }));
    if (problems.length) {
      for (const p of problems) process.stderr.write(`${p}\n`);
      process.exit(1);
    }
    writeFileSync(o.out, `${JSON.stringify(manifest, null, 2)}\n`);
    process.stderr.write(`wrote ${manifest.operations.length} operations to ${o.out}\n`);
    for (const op of manifest.operations) process.stdout.write(`${op.id}  ${op.type} ${op.name ?? '(anonymous)'}\n`);
  });

await program.parseAsync();
