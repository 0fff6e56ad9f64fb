import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { importDocument, type ImportOutcome } from '../../src/modules/docs/docs.import.js';
import { forGateway } from '../../src/modules/docs/docs.openapi.js';

/**
 * The import pipeline on real-world descriptions and on broken input, without HTTP:
 * what survives conversion (operations, paths, parameters) and where problems are located.
 */

const require = createRequire(import.meta.url);
const fixture = (name: string) => readFileSync(new URL(`../fixtures/docs/${name}`, import.meta.url), 'utf8');

function ok(outcome: ImportOutcome) {
  if (!outcome.ok) assert.fail(`import failed: ${JSON.stringify(outcome.problems)}`);
  return outcome.document;
}

function problems(outcome: ImportOutcome) {
  if (outcome.ok) assert.fail('import should have failed');
  return outcome.problems;
}

type Doc = Record<string, any>;

function operations(doc: Doc): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries<Doc>(doc.paths ?? {})) {
    for (const method of Object.keys(item))
      if (['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(method))
        out.push(`${method.toUpperCase()} ${path}`);
  }
  return out.sort();
}

function param(op: Doc, name: string): Doc {
  const found = (op.parameters ?? []).find((p: Doc) => p.name === name);
  assert.ok(found, `parameter ${name} missing`);
  return found;
}

describe('documentation import: real-world descriptions survive conversion', () => {
  test('Petstore, OpenAPI 3.0 (YAML): 19 operations, paths and parameters as written', async () => {
    const doc = ok(await importDocument({ text: fixture('petstore-3.0.yaml') }));
    assert.equal(doc.format, 'openapi');
    assert.equal(doc.syntax, 'yaml');
    assert.equal(doc.summary?.operations, 19);
    assert.equal(doc.summary?.paths, 13);
    const api = doc.openapi as Doc;
    assert.deepEqual(
      operations(api).filter((o) => o.includes('/pet')),
      [
        'DELETE /pet/{petId}',
        'GET /pet/findByStatus',
        'GET /pet/findByTags',
        'GET /pet/{petId}',
        'POST /pet',
        'POST /pet/{petId}',
        'POST /pet/{petId}/uploadImage',
        'PUT /pet',
      ],
    );
    const petId = param(api.paths['/pet/{petId}'].get, 'petId');
    assert.deepEqual(
      { in: petId.in, required: petId.required, type: petId.schema.type, format: petId.schema.format },
      { in: 'path', required: true, type: 'integer', format: 'int64' },
    );
    assert.deepEqual(param(api.paths['/pet/findByStatus'].get, 'status').schema.enum, ['available', 'pending', 'sold']);
    assert.equal(param(api.paths['/pet/{petId}'].delete, 'api_key').in, 'header');
    assert.deepEqual(Object.keys(api.components.schemas).sort(), [
      'Address',
      'ApiResponse',
      'Category',
      'Customer',
      'Order',
      'Pet',
      'Tag',
      'User',
    ]);
  });

  test('Petstore, Swagger 2.0 (JSON): converted to OpenAPI 3 with all 20 operations and their parameters', async () => {
    const doc = ok(await importDocument({ text: fixture('petstore-swagger-2.0.json') }));
    assert.equal(doc.format, 'swagger');
    const api = doc.openapi as Doc;
    assert.match(api.openapi, /^3\.0\./);
    assert.equal(doc.summary?.operations, 20);
    assert.equal(operations(api).length, 20);
    assert.ok(operations(api).includes('POST /user/createWithArray'));
    assert.deepEqual(
      api.servers.map((s: Doc) => s.url),
      ['https://petstore.swagger.io/v2', 'http://petstore.swagger.io/v2'],
    );
    // Query array with collectionFormat multi → schema array + explode.
    const status = param(api.paths['/pet/findByStatus'].get, 'status');
    assert.equal(status.in, 'query');
    assert.equal(status.required, true);
    assert.equal(status.schema.type, 'array');
    assert.deepEqual(status.schema.items.enum, ['available', 'pending', 'sold']);
    // Path parameter with its bounds.
    const orderId = param(api.paths['/store/order/{orderId}'].get, 'orderId');
    assert.deepEqual(
      { in: orderId.in, min: orderId.schema.minimum, max: orderId.schema.maximum },
      { in: 'path', min: 1, max: 10 },
    );
    // Body parameter → requestBody; formData → form request body; definitions → components.
    // (the converter shares identical bodies through components.requestBodies)
    const petBody = api.paths['/pet'].post.requestBody;
    assert.equal(petBody.$ref, '#/components/requestBodies/Pet');
    assert.equal(api.components.requestBodies.Pet.content['application/json'].schema.$ref, '#/components/schemas/Pet');
    assert.ok(
      api.paths['/pet/{petId}'].post.requestBody.content['application/x-www-form-urlencoded'].schema.properties.name,
    );
    assert.ok(
      api.paths['/pet/{petId}/uploadImage'].post.requestBody.content['multipart/form-data'].schema.properties.file,
    );
    assert.equal(api.components.securitySchemes.api_key.in, 'header');
    assert.deepEqual(Object.keys(api.components.schemas).sort(), [
      'ApiResponse',
      'Category',
      'Order',
      'Pet',
      'Tag',
      'User',
    ]);
  });

  test('OpenAPI 3.1 with webhooks: webhooks, 3.1 type arrays and path-level parameters kept', async () => {
    const doc = ok(await importDocument({ text: fixture('shipments-3.1-webhooks.yaml') }));
    assert.equal(doc.format, 'openapi');
    const api = doc.openapi as Doc;
    assert.equal(api.openapi, '3.1.0');
    assert.deepEqual(Object.keys(api.webhooks).sort(), ['shipmentDelivered', 'shipmentStatusChanged']);
    assert.deepEqual(
      { operations: doc.summary?.operations, webhooks: doc.summary?.webhooks, paths: doc.summary?.paths },
      { operations: 7, webhooks: 2, paths: 3 },
    );
    assert.deepEqual(api.components.schemas.ShipmentInput.properties.reference.type, ['string', 'null']);
    assert.equal(api.paths['/shipments/{shipmentId}'].parameters[0].$ref, '#/components/parameters/ShipmentId');
    assert.equal(param(api.paths['/shipments'].post, 'Idempotency-Key').in, 'header');
    assert.equal(param(api.webhooks.shipmentStatusChanged.post, 'X-Parcel-Signature').required, true);
  });

  // Published descriptions from npm (devDependencies): GitHub's REST API and webhooks.
  const published = (file: string) => readFileSync(require.resolve(file), 'utf8');

  /** A parameter of an operation, following `#/components/parameters/...` references. */
  function resolvedParam(api: Doc, op: Doc, name: string): Doc {
    const all = (op.parameters ?? []).map((p: Doc) =>
      typeof p.$ref === 'string' ? api.components.parameters[p.$ref.split('/').pop() as string] : p,
    );
    const found = all.find((p: Doc) => p?.name === name);
    assert.ok(found, `parameter ${name} missing`);
    return found;
  }

  test("GitHub's REST API (OpenAPI 3.0.3, 13 MB, 1,000+ operations) imports whole", async () => {
    const text = published('@octokit/openapi/generated/api.github.com.json');
    const source = JSON.parse(text) as Doc;
    const expected = operations(source);
    assert.ok(expected.length >= 1_000);
    const doc = ok(await importDocument({ text }));
    assert.equal(doc.format, 'openapi');
    const api = doc.openapi as Doc;
    assert.deepEqual(operations(api), expected);
    assert.equal(doc.summary?.operations, expected.length);
    assert.equal(doc.summary?.paths, Object.keys(source.paths).length);
    const getRepo = api.paths['/repos/{owner}/{repo}'].get;
    assert.equal(getRepo.operationId, 'repos/get');
    for (const name of ['owner', 'repo']) {
      const p = resolvedParam(api, getRepo, name);
      assert.deepEqual(
        { in: p.in, required: p.required, type: p.schema.type },
        { in: 'path', required: true, type: 'string' },
      );
    }
    const listIssues = api.paths['/repos/{owner}/{repo}/issues'].get;
    assert.deepEqual(resolvedParam(api, listIssues, 'state').schema.enum, ['open', 'closed', 'all']);
    assert.equal(resolvedParam(api, listIssues, 'per_page').in, 'query');
  });

  test("GitHub's webhooks (OpenAPI 3.1, 250+ webhooks) import whole", async () => {
    const text = published('@octokit/openapi-webhooks/generated/api.github.com.json');
    const source = JSON.parse(text) as Doc;
    const names = Object.keys(source.webhooks).sort();
    assert.ok(names.length >= 250);
    const doc = ok(await importDocument({ text }));
    const api = doc.openapi as Doc;
    assert.equal(api.openapi, '3.1.0');
    assert.deepEqual(Object.keys(api.webhooks).sort(), names);
    assert.equal(doc.summary?.webhooks, names.length);
    const push = api.webhooks.push.post;
    assert.equal(push.operationId, 'push');
    assert.ok(push.requestBody.content['application/json'].schema.$ref.startsWith('#/components/schemas/'));
    assert.equal(resolvedParam(api, push, 'X-Github-Event').in, 'header');
  });

  test('a 229-operation single-file description imports whole', async () => {
    const started = Date.now();
    const doc = ok(await importDocument({ text: fixture('commerce-platform.openapi.json') }));
    assert.equal(doc.syntax, 'json');
    assert.equal(doc.summary?.operations, 229);
    assert.equal(doc.summary?.paths, 121);
    const api = doc.openapi as Doc;
    assert.equal(operations(api).length, 229);
    assert.equal(api.paths['/invoices/{invoice_id}/finalize'].post.operationId, 'finalizeInvoice');
    assert.equal(api.paths['/customers/{customer_id}'].parameters[0].name, 'customer_id');
    assert.equal(api.paths['/customers'].get.parameters.length, 4);
    assert.ok(Date.now() - started < 20_000);
  });

  test('API Blueprint with resource groups and data structures → OpenAPI 3 with tags, parameters and schemas', async () => {
    const doc = ok(await importDocument({ text: fixture('polls.apib') }));
    assert.equal(doc.format, 'blueprint');
    const api = doc.openapi as Doc;
    assert.match(api.openapi, /^3\.0\./);
    assert.equal(api.info.title, 'Polls');
    assert.deepEqual(operations(api), [
      'DELETE /questions/{question_id}',
      'GET /questions',
      'GET /questions/{question_id}',
      'POST /questions',
      'POST /questions/{question_id}/choices/{choice_id}',
    ]);
    assert.equal(doc.summary?.operations, 5);
    // Resource groups become tags.
    assert.deepEqual(api.paths['/questions'].get.tags, ['Questions']);
    assert.deepEqual(api.paths['/questions/{question_id}/choices/{choice_id}'].post.tags, ['Choices']);
    // URI template parameters: query and path, with their types.
    const page = param(api.paths['/questions'].get, 'page');
    assert.deepEqual({ in: page.in, type: page.schema.type }, { in: 'query', type: 'number' });
    const choiceId = param(api.paths['/questions/{question_id}/choices/{choice_id}'].post, 'choice_id');
    assert.deepEqual({ in: choiceId.in, required: choiceId.required }, { in: 'path', required: true });
    // Data structures become component schemas with their required members.
    assert.ok(api.components.schemas.Question, 'Question schema');
    assert.ok(api.components.schemas.Choice, 'Choice schema');
    assert.deepEqual(api.components.schemas.Choice.required, ['choice', 'url', 'votes']);
    assert.equal(api.paths['/questions'].get.responses['200'].content['application/json'].schema.type, 'array');
  });

  test('Markdown renders to sanitised HTML: script tags, handlers and javascript: links are inert', async () => {
    const doc = ok(
      await importDocument({
        text: '# Guide\n\nHello <script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n\n[click](javascript:alert(3))\n',
      }),
    );
    assert.equal(doc.format, 'markdown');
    assert.equal(doc.openapi, null);
    assert.match(doc.html ?? '', /<h1>Guide<\/h1>/);
    assert.doesNotMatch(doc.html ?? '', /<script|onerror|javascript:/i);
  });

  test('the portal rendering points every operation at the gateway and authenticates with the gateway key', async () => {
    const api = ok(await importDocument({ text: fixture('petstore-3.0.yaml') })).openapi as Doc;
    const rendered: Doc = forGateway(api, [{ url: 'https://gw.example/petstore' }], true);
    assert.deepEqual(rendered.servers, [{ url: 'https://gw.example/petstore' }]);
    assert.deepEqual(Object.keys(rendered.components.securitySchemes), ['gatehouse_key']);
    assert.deepEqual(rendered.security, [{ gatehouse_key: [] }]);
    assert.equal(rendered.paths['/pet'].put.security, undefined);
    assert.equal(operations(rendered).length, 19);
    assert.equal(api.servers[0].url, '/api/v3', 'the stored document is not changed');
  });
});

describe('documentation import: broken input is refused with located problems', () => {
  const petstore = fixture('petstore-3.0.yaml');

  test('invalid YAML: line and column of the first syntax error', async () => {
    const list = problems(
      await importDocument({ text: petstore.replace('  /pet/findByStatus:', '  /pet/findByStatus: [oops') }),
    );
    assert.match(list[0]!.message, /Invalid YAML/);
    assert.equal(list[0]!.line, 114);
    assert.ok(list[0]!.column! > 0);
  });

  test('invalid JSON: located too', async () => {
    const list = problems(await importDocument({ text: '{\n  "openapi": "3.0.0",\n  "info": {"title": "x",}\n}' }));
    assert.match(list[0]!.message, /Invalid JSON/);
    assert.equal(list[0]!.line, 3);
  });

  test('wrong version field: pointer /openapi on line 1', async () => {
    const list = problems(await importDocument({ text: petstore.replace('openapi: 3.0.2', 'openapi: 4.7.0') }));
    assert.equal(list[0]!.pointer, '/openapi');
    assert.equal(list[0]!.line, 1);
    assert.match(list[0]!.message, /Unsupported openapi version "4.7.0"/);
    const swagger = problems(await importDocument({ text: '{"swagger": "1.2", "info": {}}' }));
    assert.equal(swagger[0]!.pointer, '/swagger');
  });

  test('dangling $ref: the pointer of the reference and its line', async () => {
    const text = petstore.replace(
      "$ref: '#/components/schemas/ApiResponse'",
      "$ref: '#/components/schemas/ApiResponses'",
    );
    const list = problems(await importDocument({ text }));
    assert.equal(list.length, 1);
    assert.equal(
      list[0]!.pointer,
      '/paths/~1pet~1{petId}~1uploadImage/post/responses/200/content/application~1json/schema/$ref',
    );
    assert.equal(text.split('\n')[list[0]!.line! - 1]!.trim(), "$ref: '#/components/schemas/ApiResponses'");
    assert.match(list[0]!.message, /points to nothing/);
  });

  test('schema violations are condensed to the closest place', async () => {
    const text = petstore.replace(
      '          in: path\n          description: ID of pet to return',
      '          in: body\n          description: ID of pet to return',
    );
    const list = problems(await importDocument({ text }));
    assert.equal(list[0]!.pointer, '/paths/~1pet~1{petId}/get/parameters/0/in');
    assert.match(list[0]!.message, /must be one of: "path", "query", "header", "cookie"/);
    assert.equal(text.split('\n')[list[0]!.line! - 1]!.trim(), 'in: body');
  });

  test('API Blueprint errors come with line and column from the parser (drafter)', async () => {
    const apib = fixture('polls.apib');
    const undefinedType = problems(
      await importDocument({ text: apib.replace('+ Attributes (Error)', '+ Attributes (Nonexistent)') }),
    );
    assert.match(undefinedType[0]!.message, /base type 'Nonexistent' is not defined/);
    assert.deepEqual({ line: undefinedType[0]!.line, column: undefinedType[0]!.column }, { line: 54, column: 7 });
    const tab = problems(await importDocument({ text: apib.replace('+ Response 204', '+ Response 204\n\t') }));
    assert.match(tab[0]!.message, /tab/);
    assert.ok(tab[0]!.line);
  });

  test('billion laughs YAML is refused at once, without expanding', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    const list = problems(await importDocument({ text: `openapi: 3.0.0\n${levels.join('\n')}\n` }));
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 50 * 1024 * 1024);
    assert.match(list[0]!.message, /alias/i);
  });

  test('nesting deeper than any real description is refused', async () => {
    const list = problems(
      await importDocument({ text: `{"openapi":"3.0.0","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}` }),
    );
    assert.match(list[0]!.message, /Nested deeper than 100 levels/);
  });

  test('megabytes of nesting are refused in well under a second, located, in JSON and in YAML', async () => {
    const depth = 3_000_000; // 6 MB, under the 10 MB upload limit
    let started = Date.now();
    const json = problems(
      await importDocument({ text: `{"openapi":"3.0.0",\n"x":${'['.repeat(depth)}${']'.repeat(depth)}}` }),
    );
    assert.ok(Date.now() - started < 1000, `JSON took ${Date.now() - started} ms`);
    assert.deepEqual(json[0], { message: 'Nested deeper than 100 levels', line: 2, column: 104 });
    // Brackets inside strings are not nesting.
    const quoted = ok(
      await importDocument({
        text: JSON.stringify({
          openapi: '3.0.0',
          info: { title: '['.repeat(500), version: '1' },
          paths: {},
        }),
      }),
    );
    assert.equal(quoted.summary?.operations, 0);
    started = Date.now();
    const yaml = problems(
      await importDocument({ text: `openapi: 3.0.0\nx: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n` }),
    );
    assert.ok(Date.now() - started < 2000, `YAML took ${Date.now() - started} ms`);
    assert.equal(yaml[0]!.message, 'Nested deeper than 100 levels');
    assert.equal(yaml[0]!.line, 2);
  });

  test('external $ref to a URL is reported and never fetched', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('{"type":"object"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/schemas.json#/Pet`;
    try {
      const list = problems(
        await importDocument({ text: petstore.replace("$ref: '#/components/schemas/ApiResponse'", `$ref: '${url}'`) }),
      );
      assert.match(list[0]!.message, /External reference .* is not fetched/);
      assert.ok(list[0]!.line);
      // Swagger 2.0 too: the converter runs with resolve:false, and the ref check runs first.
      const swagger = JSON.parse(fixture('petstore-swagger-2.0.json'));
      swagger.definitions.Order = { $ref: url };
      problems(await importDocument({ text: JSON.stringify(swagger) }));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(hits, 0);
    } finally {
      server.close();
    }
  });

  test('JSON/YAML that is no spec at all', async () => {
    const list = problems(await importDocument({ text: '{"name": "not a spec"}' }));
    assert.match(list[0]!.message, /No "openapi" or "swagger" version field/);
  });
});
