import { Command, Option } from 'commander';
import { resolveAuthSettings, signToken } from '../auth/token';
import { ROLES } from '../auth/viewer';
import { ConfigError, loadConfig } from '../config';

const program = new Command()
  .name('npm run token --')
  .description('Print a signed JWT (HS256) for the gateway on stdout. Uses JWT_SECRET, or the development secret kept in PGLITE_DIR.')
  .addOption(new Option('-r, --role <role>', 'role claim').choices(ROLES).default('ADMIN'))
  .option('-s, --sub <subject>', 'subject (user id) claim', 'dev-user')
  .option('-e, --expires <duration>', 'lifetime, e.g. 30m, 12h, 7d', '12h')
  .option('--mfa', 'add amr: ["pwd","otp","mfa"] (roles in JWT_REQUIRE_MFA_ROLES need it)')
  .addHelpText('after', `
Example:
  TOKEN=$(npm run -s token -- --role AGENT)
  curl -s localhost:4000/graphql -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"{ viewer { id role } }"}'`)
  .action(async (opts: { role: (typeof ROLES)[number]; sub: string; expires: string; mfa?: boolean }) => {
    try {
      const config = loadConfig();
      if (!/^\d+[smhdw]$/.test(opts.expires)) throw new Error('--expires must look like 30m, 12h or 7d');
      const token = await signToken(resolveAuthSettings(config), { sub: opts.sub, role: opts.role, ...(opts.mfa ? { amr: ['pwd', 'otp', 'mfa'] } : {}) }, opts.expires);
      process.stdout.write(`${token}\n`);
    } catch (e) {
      process.stderr.write(`${e instanceof ConfigError ? e.message : `token: ${e instanceof Error ? e.message : String(e)}`}\n`);
      process.exit(1);
    }
  });

await program.parseAsync();
