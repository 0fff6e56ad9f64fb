export {
  createDocsService,
  DOC_VERSIONS_KEPT,
  type DocsService,
  type DocumentationUpload,
  type DocumentationSource,
  type PortalDocumentation,
} from './docs.service.js';
export {
  createWorkerImporter,
  inlineImporter,
  type SpecImporter,
  type WorkerImporterOptions,
} from './docs.importer.js';
export { DOC_FORMATS, isDocFormat, type DocFormat } from './docs.formats.js';
export {
  GATEWAY_KEY_HEADER,
  GATEWAY_KEY_SCHEME,
  summarise,
  type GatewayServer,
  type SpecSummary,
} from './docs.openapi.js';
export type { SpecProblem } from './docs.problems.js';
export {
  DocumentationResponse,
  DocumentationVersion,
  DocumentationQuery,
  DocumentationPutQuery,
  SpecProblemSchema,
} from './docs.schemas.js';
export { docsRepository } from './docs.repository.js';
export type { DocumentationTable } from './docs.table.js';
