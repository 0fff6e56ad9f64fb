export { catalogueRepository } from './catalogue.repository.js';
export { createCatalogueService, type CatalogueService, type DeveloperCatalogueView } from './catalogue.service.js';
export { entryFromRow, presentEntry, visibleTo, type CatalogueEntry, type Visibility } from './catalogue.model.js';
export { CatalogueCreateBody, CataloguePatchBody, CatalogueResponse } from './catalogue.schemas.js';
export type { CatalogueEntriesTable } from './catalogue.table.js';
