import type { FieldDefinition } from '../../shared/fields.js';
import { fromDbBool, fromDbJson } from '../../platform/db/index.js';
import { toIso } from '../../shared/time.js';
import type { CatalogueEntriesTable } from './catalogue.table.js';
import type { CatalogueResponse } from './catalogue.schemas.js';

export type Visibility = 'public' | 'members' | 'hidden';

export interface CatalogueEntry {
  id: string;
  name: string;
  slug: string;
  shortDescription: string;
  longDescription: string;
  policyId: string;
  approval: 'auto' | 'manual';
  visibility: Visibility;
  keyRequestFields: FieldDefinition[];
  allowMultipleKeys: boolean;
  tags: string[];
  version: number;
  createdAt: number;
  updatedAt: number;
}

export function entryFromRow(row: CatalogueEntriesTable): CatalogueEntry {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    shortDescription: row.short_description,
    longDescription: row.long_description,
    policyId: row.policy_id,
    approval: row.approval === 'manual' ? 'manual' : 'auto',
    visibility: row.visibility === 'members' || row.visibility === 'hidden' ? row.visibility : 'public',
    keyRequestFields: fromDbJson<FieldDefinition[]>(row.key_request_fields, []),
    allowMultipleKeys: fromDbBool(row.allow_multiple_keys),
    tags: fromDbJson<string[]>(row.tags, []),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Which visibilities a visitor sees: signed-in developers also see `members` entries. */
export function visibleTo(signedIn: boolean): Visibility[] {
  return signedIn ? ['public', 'members'] : ['public'];
}

export function presentEntry(entry: CatalogueEntry): CatalogueResponse {
  return {
    id: entry.id,
    name: entry.name,
    slug: entry.slug,
    short_description: entry.shortDescription,
    long_description: entry.longDescription,
    policy_id: entry.policyId,
    approval: entry.approval,
    visibility: entry.visibility,
    key_request_fields: entry.keyRequestFields,
    allow_multiple_keys: entry.allowMultipleKeys,
    tags: entry.tags,
    version: entry.version,
    created_at: toIso(entry.createdAt) ?? '',
    updated_at: toIso(entry.updatedAt) ?? '',
  };
}
