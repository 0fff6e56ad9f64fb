export interface MetaTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface PortalSettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface PagesTable {
  id: string;
  slug: string;
  title: string;
  body: string;
  template: string;
  published: number;
  is_homepage: number;
  menu_position: number | null;
  created_at: number;
  updated_at: number;
}
