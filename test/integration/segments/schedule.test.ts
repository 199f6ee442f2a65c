import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRows } from '../../../src/db/client';
import { createLogger } from '../../../src/logger';
import { startBackgroundJobs, type BackgroundJobs } from '../../../src/modules/automation/workers';
import { refreshDueSegments } from '../../../src/modules/segments/segments.service';
import { createSeeder, type Seeder } from '../../factories/index';
import { startApp, type TestApp } from '../../helpers/app';

describe('scheduled segment refresh', () => {
  let app: TestApp;
  let seed: Seeder;
  let jobs: BackgroundJobs | undefined;
  beforeAll(async () => {
    app = await startApp();
    seed = createSeeder(app.db.db);
  }, 240_000);
  afterAll(async () => {
    await jobs?.stop();
    await app?.close();
  });

  const sizeOf = async (name: string) => {
    const [r] = await execRows<{ n: number }>(app.db.db, sql`
      SELECT count(m.customer_id)::int AS n FROM segments s LEFT JOIN segment_memberships m ON m.segment_id = s.id WHERE s.name = ${name}`);
    return r!.n;
  };

  it('refreshes only segments that are due, and the in-process schedule picks up data changes', async () => {
    await seed.customer({ country: 'SE' }).create();
    const res = await app.gql('mutation { createSegment(input: { name: "Sweden", kind: DYNAMIC, filter: { country: "SE" } }) { userErrors { message } } }');
    expect(res.body.errors).toBeUndefined();
    expect(await sizeOf('Sweden')).toBe(1);
    await seed.customer({ country: 'SE' }).create();

    // Just refreshed at creation: not due within an hour.
    const logger = createLogger(app.config);
    expect(await refreshDueSegments(app.db.db, app.config, logger, 3_600_000)).toEqual({ refreshed: 0, entered: 0, exited: 0 });
    expect(await sizeOf('Sweden')).toBe(1);

    jobs = startBackgroundJobs(app.db.db, { ...app.config, segmentRefreshIntervalMs: 1000, webhooks: { ...app.config.webhooks, dispatchIntervalMs: 0 } }, logger);
    const until = Date.now() + 20_000;
    while (await sizeOf('Sweden') !== 2) {
      if (Date.now() > until) throw new Error('the schedule did not refresh the segment');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [hist] = await execRows<{ n: number }>(app.db.db, sql`SELECT count(*)::int AS n FROM segment_membership_events WHERE action = 'ENTERED'`);
    expect(hist!.n).toBe(2);
  });
});
