import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/db.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

/** The admin documentation API (issue 5): upload, versions, source download, refusals. */

const fixture = (name: string) => readFileSync(new URL(`../fixtures/docs/${name}`, import.meta.url), 'utf8');

async function put(system: TestSystem, entryId: string, body: string, contentType = 'text/plain', query = '') {
  return system.admin.request('PUT', `/api/v1/catalogue/${entryId}/documentation${query}`, body, {
    'content-type': contentType,
  });
}

/**
 * Sends a PUT whose body is `bytes` long, either announced with Content-Length (only
 * the headers are sent: the server must answer before reading any body) or chunked.
 * Resolves with the answer as soon as it arrives, then drops the connection; a reset
 * before any answer rejects (a server that reads everything first would show up here).
 */
function putLarge(
  system: TestSystem,
  path: string,
  bytes: number,
  mode: 'announced' | 'chunked',
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, system.running.urls.admin);
    const headers: Record<string, string> = {
      authorization: `Bearer ${system.admin.token}`,
      'content-type': 'application/yaml',
    };
    if (mode === 'announced') headers['content-length'] = String(bytes);
    else headers['transfer-encoding'] = 'chunked';
    let answered = false;
    const req = httpRequest(url, { method: 'PUT', headers }, (res) => {
      answered = true;
      let text = '';
      const done = () => {
        req.destroy();
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: null });
        }
      };
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered) reject(new Error(`connection failed before any answer: ${error.code ?? error.message}`));
    });
    if (mode === 'announced') {
      req.flushHeaders();
      return;
    }
    const chunk = Buffer.alloc(256 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < bytes && !answered && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered && !req.destroyed) req.end();
    };
    pump();
  });
}

for (const dialect of dialects()) {
  describe(`documentation admin API on ${dialect}`, () => {
    let system: TestSystem;
    let entryId: string;
    let otherEntryId: string;

    before(async () => {
      system = await startSystem(dialect);
      const api = await system.admin.post('/api/v1/apis', {
        name: 'Pets',
        listen_path: '/pets-docs',
        target_url: 'http://127.0.0.1:9',
      });
      const policy = await system.admin.post('/api/v1/policies', {
        name: 'Docs',
        rate: 0,
        per: 1,
        access_rights: [{ api_id: api.body.id }],
      });
      const entry = await system.admin.post('/api/v1/catalogue', { name: 'Pets', policy_id: policy.body.id });
      assert.equal(entry.status, 201, JSON.stringify(entry.body));
      entryId = entry.body.id;
      otherEntryId = (await system.admin.post('/api/v1/catalogue', { name: 'Other', policy_id: policy.body.id })).body
        .id;
    });

    after(async () => {
      await system?.stop();
    });

    test('upload OpenAPI 3.0 YAML: detected, 201, summary, normalised document and the source as uploaded', async () => {
      const source = fixture('petstore-3.0.yaml');
      const created = await put(system, entryId, source, 'application/yaml');
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.format, 'openapi');
      assert.equal(created.body.summary.operations, 19);
      assert.equal(created.body.is_current, true);
      assert.match(created.body.content_hash, /^[0-9a-f]{64}$/);
      assert.equal(created.body.openapi, undefined, 'the upload answer does not echo the whole document');

      const got = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`);
      assert.equal(got.status, 200);
      assert.equal(got.body.openapi.info.title, 'Swagger Petstore - OpenAPI 3.0');
      assert.equal(Object.keys(got.body.openapi.paths).length, 13);

      const raw = await fetch(`${system.running.urls.admin}/api/v1/catalogue/${entryId}/documentation?source=true`, {
        headers: { authorization: `Bearer ${system.admin.token}` },
      });
      assert.equal(raw.status, 200);
      assert.match(raw.headers.get('content-type') ?? '', /^application\/yaml/);
      assert.match(raw.headers.get('content-disposition') ?? '', /attachment; filename="documentation-doc_.*\.yaml"/);
      assert.equal(await raw.text(), source);

      const audit = await system.admin.get(`/api/v1/audit-events?object_id=${entryId}&action=documentation.uploaded`);
      assert.equal(audit.body.data.length, 1);
      assert.equal(audit.body.data[0].details.format, 'openapi');
    });

    test('the same bytes again change nothing; a new document becomes current and the old one stays downloadable with its date', async () => {
      const again = await put(system, entryId, fixture('petstore-3.0.yaml'), 'application/yaml');
      assert.equal(again.status, 200);
      const swagger = fixture('petstore-swagger-2.0.json');
      const replaced = await put(system, entryId, swagger, 'application/json');
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      assert.equal(replaced.body.format, 'swagger');
      assert.equal(replaced.body.summary.operations, 20);
      assert.match(replaced.body.summary.openapi_version, /^3\.0/);

      const versions = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation/versions`);
      assert.equal(versions.status, 200);
      assert.deepEqual(
        versions.body.data.map((v: any) => [v.format, v.is_current]),
        [
          ['swagger', true],
          ['openapi', false],
        ],
      );
      const old = versions.body.data[1];
      assert.ok(!Number.isNaN(Date.parse(old.uploaded_at)));
      assert.equal(old.source_url, `/api/v1/catalogue/${entryId}/documentation/versions/${old.id}?source=true`);
      const oldSource = await fetch(`${system.running.urls.admin}${old.source_url}`, {
        headers: { authorization: `Bearer ${system.admin.token}` },
      });
      assert.equal(await oldSource.text(), fixture('petstore-3.0.yaml'));
      assert.ok(oldSource.headers.get('last-modified'));
      const oldDoc = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation/versions/${old.id}`);
      assert.equal(oldDoc.body.openapi.openapi, '3.0.2');
      const current = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`);
      assert.match(current.body.openapi.openapi, /^3\.0/);
      assert.equal(current.body.openapi.paths['/user/createWithArray'].post.operationId, 'createUsersWithArrayInput');
    });

    test('every format through the API: 3.1 with webhooks, 229 operations, API Blueprint (detected), Markdown via ?format', async () => {
      const cases: [string, string, string, number | null][] = [
        ['shipments-3.1-webhooks.yaml', 'application/yaml', 'openapi', 7],
        ['commerce-platform.openapi.json', 'application/json', 'openapi', 229],
        ['polls.apib', 'text/plain', 'blueprint', 5],
      ];
      for (const [file, type, format, operations] of cases) {
        const res = await put(system, otherEntryId, fixture(file), type);
        assert.ok(res.status === 200 || res.status === 201, `${file}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.format, format, file);
        assert.equal(res.body.summary.operations, operations, file);
      }
      const blueprint = await system.admin.get(`/api/v1/catalogue/${otherEntryId}/documentation`);
      assert.deepEqual(blueprint.body.openapi.paths['/questions'].get.tags, ['Questions']);
      assert.ok(blueprint.body.openapi.components.schemas.Question);
      const md = await put(
        system,
        otherEntryId,
        '# Guide\n\nUse `GET /pets`.\n\n<script>alert(1)</script>',
        'text/plain',
        '?format=markdown',
      );
      assert.equal(md.status, 200, JSON.stringify(md.body));
      assert.equal(md.body.format, 'markdown');
      assert.equal(md.body.summary, null);
      const mdDoc = await system.admin.get(`/api/v1/catalogue/${otherEntryId}/documentation`);
      assert.match(mdDoc.body.html, /<code>GET \/pets<\/code>/);
      assert.doesNotMatch(mdDoc.body.html, /<script/);
    });

    test('broken documents: 422 SPEC_INVALID with located problems, and the previous documentation stays current', async () => {
      const before = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`);
      const petstore = fixture('petstore-3.0.yaml');
      const broken: [string, string, (p: any) => void][] = [
        [
          'invalid YAML',
          petstore.replace('  /pet/findByStatus:', '  /pet/findByStatus: [oops'),
          (p) => assert.equal(p.line, 114),
        ],
        [
          'wrong version',
          petstore.replace('openapi: 3.0.2', 'openapi: 4.7.0'),
          (p) => assert.deepEqual([p.pointer, p.line], ['/openapi', 1]),
        ],
        [
          'dangling $ref',
          petstore.replace("$ref: '#/components/schemas/ApiResponse'", "$ref: '#/components/schemas/Missing'"),
          (p) => assert.match(p.pointer, /uploadImage/),
        ],
        [
          'Blueprint syntax error',
          fixture('polls.apib').replace('+ Attributes (Error)', '+ Attributes (Nonexistent)'),
          (p) => assert.deepEqual([p.line, p.column], [54, 7]),
        ],
        [
          'external $ref',
          petstore.replace("$ref: '#/components/schemas/ApiResponse'", "$ref: 'https://example.com/x.json'"),
          (p) => assert.match(p.message, /not fetched/),
        ],
      ];
      for (const [what, body, check] of broken) {
        const res = await put(system, entryId, body);
        assert.equal(res.status, 422, `${what}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'SPEC_INVALID', what);
        assert.ok(Array.isArray(res.body.error.details.problems) && res.body.error.details.problems.length > 0, what);
        check(res.body.error.details.problems[0]);
        assert.match(res.body.error.message, /line \d+|at \//, what);
      }
      const afterwards = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`);
      assert.equal(afterwards.body.id, before.body.id);
      assert.equal(afterwards.body.content_hash, before.body.content_hash);
      const versions = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation/versions`);
      assert.equal(versions.body.data.length, 2);
    });

    test('billion-laughs YAML is refused quickly and the server keeps serving', { timeout: 30_000 }, async () => {
      const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let i = 1; i < 10; i++) {
        const prev = String.fromCharCode(96 + i);
        const name = String.fromCharCode(97 + i);
        levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
      }
      const started = Date.now();
      const res = await put(system, entryId, `openapi: 3.0.0\n${levels.join('\n')}\n`, 'application/yaml');
      assert.equal(res.status, 422);
      assert.match(res.body.error.details.problems[0].message, /alias/i);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      assert.equal((await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`)).status, 200);
    });

    test(
      'a 20 MB body is refused with 413 (announced length and chunked), nothing changes',
      { timeout: 60_000 },
      async () => {
        const before = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`);
        const path = `/api/v1/catalogue/${entryId}/documentation`;
        const announced = await putLarge(system, path, 20 * 1024 * 1024, 'announced');
        assert.equal(announced.status, 413);
        assert.equal(announced.body.error.code, 'PAYLOAD_TOO_LARGE');
        assert.equal(announced.body.error.details.max_bytes, 10 * 1024 * 1024);
        const chunked = await putLarge(system, path, 20 * 1024 * 1024, 'chunked');
        assert.equal(chunked.status, 413);
        assert.equal(chunked.body?.error.code ?? 'PAYLOAD_TOO_LARGE', 'PAYLOAD_TOO_LARGE');
        const afterwards = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`);
        assert.equal(afterwards.body.id, before.body.id);
      },
    );

    test('auth and roles: anonymous 401 before the body is read, unknown entry 404, empty body 422', async () => {
      const anonymous = await fetch(`${system.running.urls.admin}/api/v1/catalogue/${entryId}/documentation`, {
        method: 'PUT',
        body: 'openapi: 3.0.0',
        headers: { 'content-type': 'application/yaml' },
      });
      assert.equal(anonymous.status, 401);
      assert.equal((await put(system, 'cat_missing', fixture('petstore-3.0.yaml'))).status, 404);
      const empty = await put(system, entryId, ' ');
      assert.equal(empty.status, 422);
    });

    test('DELETE takes the documentation off the entry; versions stay downloadable; developer view follows', async () => {
      const view = await system.portal.get(`/api/v1/catalogue/${entryId}`);
      assert.equal(view.body.documentation.format, 'swagger');
      const removed = await system.admin.delete(`/api/v1/catalogue/${entryId}/documentation`);
      assert.equal(removed.status, 204);
      assert.equal((await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`)).status, 404);
      assert.equal((await system.admin.delete(`/api/v1/catalogue/${entryId}/documentation`)).status, 404);
      const versions = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation/versions`);
      assert.deepEqual(
        versions.body.data.map((v: any) => v.is_current),
        [false, false],
      );
      assert.equal((await system.portal.get(`/api/v1/catalogue/${entryId}`)).body.documentation, null);
      const audit = await system.admin.get(`/api/v1/audit-events?object_id=${entryId}&action=documentation.deleted`);
      assert.equal(audit.body.data.length, 1);
    });
  });
}
