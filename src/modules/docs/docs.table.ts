export interface DocumentationTable {
  id: string;
  catalogue_id: string;
  format: string;
  source: string;
  source_type: string;
  openapi: string | null;
  html: string | null;
  content_hash: string;
  is_current: number;
  uploaded_by: string | null;
  uploaded_at: number;
}
