import { checkFieldDefinitions } from '../../shared/fields.js';
import { validationError } from '../../shared/errors.js';
import { fromDbJson, toDbJson } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import type { Actor, ModuleContext } from '../context.js';
import type { Executor } from '../database.js';
import { DEFAULT_SETTINGS, type PortalSettings, type SettingsPatchBody } from './settings.schemas.js';

/** Portal settings: one row per setting, defaults for anything never saved. */
export async function readSettings(db: Executor): Promise<PortalSettings> {
  const rows = await db.selectFrom('portal_settings').selectAll().orderBy('key').execute();
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const row of rows) {
    if (row.key in DEFAULT_SETTINGS) settings[row.key] = fromDbJson(row.value, settings[row.key]);
  }
  return settings as PortalSettings;
}

export function createSettingsService(ctx: ModuleContext) {
  const { db, bus, clock } = ctx;
  return {
    get: () => readSettings(db),

    async update(actor: Actor, patch: SettingsPatchBody): Promise<PortalSettings> {
      const problems = [
        ...checkFieldDefinitions(patch.signup_fields ?? [], 'signup_fields'),
        ...checkFieldDefinitions(patch.default_key_request_fields ?? [], 'default_key_request_fields'),
      ];
      if (problems.length > 0) throw validationError(problems);
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        for (const [key, value] of Object.entries(patch)) {
          if (value === undefined) continue;
          await tx
            .insertInto('portal_settings')
            .values({ key, value: toDbJson(value), updated_at: now })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value: toDbJson(value), updated_at: now }))
            .execute();
        }
        await recordAudit(
          tx,
          actor,
          {
            action: 'settings.updated',
            objectType: 'settings',
            objectId: null,
            details: { fields: Object.keys(patch) },
          },
          now,
        );
      });
      bus.publish({ topic: 'settings' });
      return readSettings(db);
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
