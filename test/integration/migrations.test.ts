import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { migrateToLatest } from '../../src/platform/db/index.js';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/db.js';

for (const dialect of dialects()) {
  describe(`migrations on ${dialect}`, () => {
    const opened: TestDatabase[] = [];
    after(async () => {
      for (const db of opened) await db.destroy();
    });

    test('create every table and are idempotent', async () => {
      const t = await createTestDatabase(dialect);
      opened.push(t);
      assert.deepEqual(await migrateToLatest(t.db), []);
      const tables = (await t.db.introspection.getTables()).map((x) => x.name).sort();
      for (const name of [
        'apis',
        'policies',
        'catalogue_entries',
        'developers',
        'key_requests',
        'keys',
        'admin_users',
        'admin_tokens',
        'portal_settings',
        'audit_events',
        'analytics_rollups',
        'analytics_records',
        'analytics_record_chunks',
      ]) {
        assert.ok(tables.includes(name), `${name} missing on ${dialect}`);
      }
    });
  });
}
