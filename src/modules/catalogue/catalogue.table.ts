export interface CatalogueEntriesTable {
  id: string;
  name: string;
  slug: string;
  short_description: string;
  long_description: string;
  policy_id: string;
  approval: string;
  visibility: string;
  key_request_fields: string;
  allow_multiple_keys: number;
  tags: string;
  version: number;
  created_at: number;
  updated_at: number;
}
