import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLoginThrottle } from '../../src/modules/login-throttle/index.js';
import { isAppError } from '../../src/shared/errors.js';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/db.js';

for (const dialect of dialects()) {
  describe(`admin sign-in throttle on ${dialect}`, () => {
    let t: TestDatabase;
    let now = 1_800_000_000_000;
    const clock = { now: () => now };
    before(async () => {
      t = await createTestDatabase(dialect);
    });
    after(async () => {
      await t.destroy();
    });

    const lockedFor = async (throttle: ReturnType<typeof createLoginThrottle>, email: string, ip: string) => {
      try {
        await throttle.check(email, ip);
        return 0;
      } catch (error) {
        assert.ok(isAppError(error) && error.code === 'TOO_MANY_REQUESTS');
        return (error.details as { retry_after: number }).retry_after;
      }
    };

    test('failures recorded at the same moment are all counted, and the fifth locks the account', async () => {
      const throttle = createLoginThrottle({ db: t.db, clock });
      await Promise.all(Array.from({ length: 4 }, (_, i) => throttle.recordFailure('Race@Example.com', `10.0.0.${i}`)));
      assert.equal(await lockedFor(throttle, 'race@example.com', '10.9.9.9'), 0, 'four failures do not lock');
      const row = await t.db
        .selectFrom('login_throttle')
        .selectAll()
        .where('key', '=', 'email:race@example.com')
        .executeTakeFirstOrThrow();
      assert.equal(row.failures, 4);
      await throttle.recordFailure('race@example.com', '10.0.0.9');
      assert.equal(await lockedFor(throttle, 'race@example.com', '10.9.9.9'), 15 * 60);
      assert.equal(await lockedFor(throttle, 'other@example.com', '10.9.9.9'), 0, 'other accounts are not locked');
    });

    test('a window that has passed starts counting again; success clears the account', async () => {
      const throttle = createLoginThrottle({ db: t.db, clock, limits: { perAccount: 3, perIp: 100 } });
      await throttle.recordFailure('window@example.com', '10.1.0.1');
      await throttle.recordFailure('window@example.com', '10.1.0.1');
      now += 15 * 60_000;
      await throttle.recordFailure('window@example.com', '10.1.0.1');
      await throttle.recordFailure('window@example.com', '10.1.0.1');
      assert.equal(await lockedFor(throttle, 'window@example.com', '10.1.0.2'), 0, 'two in the new window');
      await throttle.recordFailure('window@example.com', '10.1.0.1');
      assert.ok((await lockedFor(throttle, 'window@example.com', '10.1.0.2')) > 0);
      now += 15 * 60_000 + 1;
      assert.equal(await lockedFor(throttle, 'window@example.com', '10.1.0.2'), 0, 'the lock ends');
      await throttle.recordSuccess('window@example.com');
      assert.equal(
        await t.db
          .selectFrom('login_throttle')
          .select('key')
          .where('key', '=', 'email:window@example.com')
          .executeTakeFirst(),
        undefined,
      );
    });

    test('the per-IP limit locks an address guessing across many accounts', async () => {
      const throttle = createLoginThrottle({ db: t.db, clock, limits: { perAccount: 100, perIp: 3 } });
      for (let i = 0; i < 3; i++) await throttle.recordFailure(`spray${i}@example.com`, '10.2.0.1');
      assert.ok((await lockedFor(throttle, 'fresh@example.com', '10.2.0.1')) > 0);
      assert.equal(await lockedFor(throttle, 'fresh@example.com', '10.2.0.2'), 0);
    });
  });
}
