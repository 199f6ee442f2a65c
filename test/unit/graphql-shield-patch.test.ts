import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * graphql-shield 7.6.5 imports `util.isUndefined`, which Node 23 removed; `npm ci` applies
 * patches/graphql-shield+7.6.5.patch (patch-package, from the postinstall script). These fail when
 * the patch was not applied: the first under Node 23+, the last two under any Node.
 */
const require = createRequire(import.meta.url);
const shieldDir = dirname(require.resolve('graphql-shield/package.json'));
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: process.cwd(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('graphql-shield under the running Node', () => {
  it('imports its ESM entry (the one `npm start` loads)', () => {
    const out = run(['--input-type=module', '-e', "const s = await import('graphql-shield'); console.log(typeof s.shield, typeof s.chain)"]);
    expect(out.trim()).toBe('function function');
  });

  it('evaluates chain and race rules to their end in its CJS build (the calls that used util.isUndefined)', () => {
    const script = `
      const { chain, race, allow, deny } = require('graphql-shield');
      Promise.all([chain(allow, allow).resolve({}, {}, {}, {}, {}), race(deny, deny).resolve({}, {}, {}, {}, {})])
        .then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.message); process.exit(1); });`;
    expect(run(['-e', script]).trim()).toBe('[true,false]');
  });

  it('has no reference to util.isUndefined left in either build', () => {
    for (const file of ['esm/rules.js', 'cjs/rules.js']) {
      const src = readFileSync(join(shieldDir, file), 'utf8');
      expect(src, file).not.toMatch(/isUndefined/);
    }
  });
});
