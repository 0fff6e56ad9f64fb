import type { ApisService } from '../modules/apis/index.js';
import type { CatalogueService } from '../modules/catalogue/index.js';
import type { DocsService } from '../modules/docs/index.js';
import type { PoliciesService } from '../modules/policies/index.js';
import { SYSTEM_ACTOR } from '../modules/context.js';
import { SAMPLE_PETSTORE_OPENAPI } from './sample-openapi.js';

export interface DemoServices {
  apis: ApisService;
  policies: PoliciesService;
  catalogue: CatalogueService;
  docs: DocsService;
}

/**
 * On an empty database: a sample API served by the built-in upstream, a policy and
 * a public, auto-approved catalogue entry with the sample API's OpenAPI documentation. Returns false when there was data already.
 */
export async function seedDemo(s: DemoServices, sampleUpstreamUrl: string): Promise<boolean> {
  const existing = await s.apis.list({ limit: 1 });
  if (existing.data.length > 0) return false;
  const api = await s.apis.create(SYSTEM_ACTOR, {
    name: 'Sample Pet Store',
    slug: 'sample-pet-store',
    listen_path: '/petstore/',
    target_url: sampleUpstreamUrl,
    strip_listen_path: true,
    auth: 'key',
    active: true,
  });
  const policy = await s.policies.create(SYSTEM_ACTOR, {
    name: 'Pet Store Free',
    rate: 60,
    per: 60,
    quota_max: 1000,
    quota_renewal_rate: 86_400,
    key_expires_in: 0,
    access_rights: [{ api_id: api.id }],
    active: true,
    tags: ['demo'],
  });
  const entry = await s.catalogue.create(SYSTEM_ACTOR, {
    name: 'Pet Store (Free)',
    slug: 'pet-store-free',
    short_description: 'A sample API to try Gatehouse: list and look up pets.',
    long_description:
      '# Pet Store\n\nA small sample API served by Gatehouse itself.\n\n- `GET /pets` lists pets (filter with `?status=available`)\n- `GET /pets/{id}` returns one pet\n\nThe free plan allows 60 requests per minute and 1,000 per day.',
    policy_id: policy.id,
    approval: 'auto',
    visibility: 'public',
    tags: ['demo', 'pets'],
  });
  await s.docs.put(SYSTEM_ACTOR, entry.id, {
    text: SAMPLE_PETSTORE_OPENAPI,
    format: 'openapi',
    contentType: 'application/yaml',
  });
  return true;
}
