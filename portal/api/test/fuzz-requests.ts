/**
 * Hostile requests for the fuzz suite (fuzz.spec.ts), as fast-check arbitraries built from the OpenAPI document:
 * for each route, path parameters with traversal, control characters and broken percent-encoding; absurd query
 * values; bodies with wrong types, missing and extra fields, huge strings, deep nesting, odd Unicode, bad encodings
 * and content types. Mixed with well-formed values (real ids, valid-looking fields) so that requests also get past
 * the first check and reach the handlers.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';

export interface Route {
  method: string;
  /** OpenAPI form: `/api/v1/users/{name}`. */
  path: string;
  queryParams: string[];
  bodySchema?: Schema;
}

export interface FuzzRequest {
  method: string;
  /** The raw request target, sent as it is (no normalisation of `..`, no re-encoding). */
  target: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  example?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>
  >;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation in the document, with the schema of its JSON body when it declares one. */
export function routesOf(doc: OpenApiDocument): Route[] {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!METHODS.includes(method)) continue;
      const queryParams = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      routes.push({ method: method.toUpperCase(), path, queryParams, bodySchema: schema && resolve(schema, doc) });
    }
  }
  return routes;
}

/** The schema with every `$ref` replaced by what it names (the document's DTOs do not refer to themselves). */
function resolve(schema: Schema, doc: OpenApiDocument, depth = 0): Schema {
  if (depth > 10) return {};
  if (schema.$ref) return resolve(doc.components?.schemas?.[schema.$ref.split('/').pop()!] ?? {}, doc, depth + 1);
  const resolved: Schema = { ...schema };
  if (schema.properties) {
    resolved.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(v, doc, depth + 1)]));
  }
  if (schema.items) resolved.items = resolve(schema.items, doc, depth + 1);
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    if (schema[key]) resolved[key] = schema[key].map((s) => resolve(s, doc, depth + 1));
  }
  return resolved;
}

// ---------------------------------------------------------------------------------------------------------------
// Path parameters and query values

/** Raw path segments, already in their on-the-wire form. */
const HOSTILE_SEGMENTS = [
  '..',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '..%5c..%5cwindows',
  '%00',
  'a%00b',
  '%0d%0aSet-Cookie:%20x=1',
  '%1b%5b31m',
  '%E0%A4%A',
  '%',
  '%ZZ',
  '%C0%AE%C0%AE',
  '%ED%A0%80',
  '%FF%FE',
  '%20',
  '%09',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  '-1',
  '0',
  '1e309',
  'NaN',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '%27%20OR%20%271%27=%271',
  '%22%3B%20DROP%20TABLE%20users%3B--',
  '%24%7Bjndi:ldap://x%7D',
  '*',
  '.',
  '~',
  'a'.repeat(300),
  'x'.repeat(8000),
];

/** A string as a path segment or query value: UTF-8 percent-encoded, or byte by byte when it is not valid UTF-16. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    // A lone surrogate: sent as its three CESU-8 bytes, which are not valid UTF-8.
    return [...text]
      .map((c) => {
        const code = c.charCodeAt(0);
        if (code < 0xd800 || code > 0xdfff) return encodeURIComponent(c);
        return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
          .map((b) => `%${b.toString(16).toUpperCase()}`)
          .join('');
      })
      .join('');
  }
}

const oddText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '\u202Eevil\u202C',
    'e\u0301\u0301\u0301',
    '\uFEFF',
    '\u0000',
    '👩‍👩‍👧‍👦',
    '𝕏',
    'İı',
    'ß',
    '\uFFFF',
    '\uD800',
    '\uDFFF',
    'Ω≈ç√∫',
  ),
);

export const pathValue = (knownValues: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...knownValues).map(encode) },
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
    { weight: 2, arbitrary: oddText.map(encode) },
    { weight: 1, arbitrary: fc.uuid() },
  );

const ABSURD_QUERY_VALUES = [
  '-1',
  '0',
  '-0',
  '1.5',
  '1e309',
  '-1e309',
  '99999999999999999999999',
  '9007199254740993',
  'NaN',
  'Infinity',
  '-Infinity',
  '',
  'true',
  'null',
  '[]',
  '{}',
  '0x10',
  '2024-13-45T99:99:99Z',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '%00',
  '%E0%A4%A',
  'x'.repeat(10_000),
];

const queryPair = (names: string[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.oneof(
        { weight: 4, arbitrary: names.length ? fc.constantFrom(...names) : fc.constant('limit') },
        { weight: 1, arbitrary: fc.constantFrom('limit', 'cursor', '__proto__', 'constructor[prototype][x]', 'x[]', 'a[b][c]', '') },
        { weight: 1, arbitrary: oddText.map(encode) },
      ),
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...ABSURD_QUERY_VALUES) },
        { weight: 1, arbitrary: fc.integer().map(String) },
        { weight: 1, arbitrary: oddText.map(encode) },
      ),
      fc.constantFrom('', '[]', '[x]'),
    )
    .map(([name, value, suffix]) => `${name}${suffix}=${value}`);

/** Absent, or a query string with the route's own parameters and others, repeated names (arrays) included. */
const queryString = (names: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 3, arbitrary: fc.array(queryPair(names), { minLength: 1, maxLength: 4 }).map((pairs) => `?${pairs.join('&')}`) },
  );

// ---------------------------------------------------------------------------------------------------------------
// Bodies

/** Field names the API's bodies use: bodies of routes whose document declares no schema are built from these. */
const FIELD_NAMES = [
  'id',
  'name',
  'username',
  'password',
  'roles',
  'role',
  'namespace',
  'value',
  'runbook',
  'params',
  'targets',
  'labels',
  'names',
  'selector',
  'min',
  'max',
  'count',
  'direction',
  'reason',
  'schedule',
  'cron',
  'timezone',
  'enabled',
  'concurrency',
  'type',
  'alertsPath',
  'host',
  'port',
  'user',
  'keySecret',
  'hostKey',
  'match',
  'hook',
  'cooldown',
  'maxPerHour',
  'onResolved',
  'token',
  'refreshToken',
  'alerts',
  'status',
  'expiresIn',
  'ttl',
  'publicKey',
  'hostname',
  'version',
  '__proto__',
  'constructor',
];

const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 0.1),
  oddText,
  fc.constantFrom('', ' ', 'true', '1', '[]', '{}', '$gt', '../../etc/passwd', '{{ 7*7 }}', '${7*7}', '`id`', '$(id)'),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(fc.constantFrom(...FIELD_NAMES), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.integer({ min: 50, max: 400 }).map((n) => nested(n)),
  fc.integer({ min: 1_000, max: 90_000 }).map((n) => 'x'.repeat(n)),
);

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? { a: value } : [value];
  return value;
}

/** A value that fits the schema, as a client would send it. */
function fitting(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 4) return fc.constant(null);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const branches = schema.allOf ?? schema.oneOf ?? schema.anyOf;
  if (branches?.length) return fc.oneof(...branches.map((s) => fitting(s, depth + 1)));
  const example = schema.example !== undefined ? [fc.constant(schema.example)] : [];
  switch (schema.type) {
    case 'string':
      return fc.oneof(...example, fc.constantFrom('open.hello', 'fuzz', 'a-long-fuzz-password', 'viewer'), fc.string({ maxLength: 30 }));
    case 'integer':
    case 'number':
      return fc.oneof(...example, fc.integer({ min: -5, max: 100 }));
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fitting(schema.items ?? {}, depth + 1), { maxLength: 3 });
    default:
      if (schema.properties) return objectOf(schema, depth);
      return fc.oneof(...example, fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }));
  }
}

/** The schema's object: each field fitting or of a wrong type, any field may be missing, extra fields may be added. */
function objectOf(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  const fields = Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, field]) => [
      name,
      fc.oneof({ weight: 4, arbitrary: fitting(field, depth + 1) }, { weight: 1, arbitrary: wrongValue }),
    ]),
  );
  const extra = fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 8 })), wrongValue, { maxKeys: 2 });
  return fc
    .tuple(fc.record(fields, { requiredKeys: [] }), fc.option(extra, { freq: 4 }))
    .map(([record, added]) => ({ ...record, ...(added ?? {}) }));
}

/** Without a schema in the document: an object of the API's field names with any values. */
const objectOfKnownFields: fc.Arbitrary<unknown> = fc.dictionary(
  fc.constantFrom(...FIELD_NAMES),
  fc.oneof(fc.jsonValue({ maxDepth: 3 }), wrongValue),
  { maxKeys: 6 },
);

const JSON_TYPE = 'application/json';

interface Body {
  bytes: Buffer;
  headers: Record<string, string>;
}

const json = (value: unknown): Body => ({ bytes: Buffer.from(JSON.stringify(value) ?? 'null'), headers: { 'content-type': JSON_TYPE } });
const raw = (text: string | Buffer, headers: Record<string, string> = { 'content-type': JSON_TYPE }): Body => ({
  bytes: Buffer.isBuffer(text) ? text : Buffer.from(text),
  headers,
});

/** Bodies that are not a JSON object: malformed, other types, bad bytes, compressed, nested past reason. */
const hostileBody: fc.Arbitrary<Body> = fc.oneof(
  fc.constantFrom(
    raw('{"name": "x",}'),
    raw('{"name": "x"'),
    raw('{name: "x"}'),
    raw("{'name': 'x'}"),
    raw('"just a string"'),
    raw('12345'),
    raw('null'),
    raw('[]'),
    raw('[{}, {}]'),
    raw('{}'),
    raw(''),
    raw('{"limit": 1e400, "count": -0, "max": 123456789012345678901234567890}'),
    raw('{"__proto__": {"isAdmin": true, "roles": ["admin"]}, "constructor": {"prototype": {"polluted": 1}}}'),
    raw('{"name": "a", "name": "b"}'),
    raw('\uFEFF{"name": "bom"}'),
    raw(Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d])),
    raw('{"name": "\\ud800", "value": "\\u0000"}'),
    raw('{"name": "x"}', { 'content-type': 'text/plain' }),
    raw('name=x&roles[0][role]=admin', { 'content-type': 'application/x-www-form-urlencoded' }),
    raw('--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--', { 'content-type': 'multipart/form-data; boundary=b' }),
    raw('<name>x</name>', { 'content-type': 'application/xml' }),
    raw('{"name": "x"}', {}),
    raw('{"name": "x"}', { 'content-type': 'application/json; charset=latin1' }),
    raw('{"name": "x"}', { 'content-type': 'application/json; charset=utf-7' }),
    raw(Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d]), { 'content-type': 'application/json; charset=utf-16' }),
    raw('{"name": "x"}', { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
    raw('{"name": "x"}', { 'content-type': 'application/json', 'content-encoding': 'compress' }),
    raw(gzipSync('{"name": "zipped"}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
    raw(gzipSync(`{"a": "${'0'.repeat(2_000_000)}"}`), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
    raw('{"name": "x"}', { 'content-type': 'application/vnd.baton+json' }),
  ),
  fc.integer({ min: 100, max: 16_000 }).map((n) => raw('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
  fc.integer({ min: 100, max: 40_000 }).map((n) => raw(`{"params": ${'['.repeat(n)}${']'.repeat(n)}}`)),
  fc.integer({ min: 60_000, max: 200_000 }).map((n) => json({ name: 'x'.repeat(n), value: 'y' })),
  fc.integer({ min: 10_000, max: 40_000 }).map((n) => json({ name: '€'.repeat(n) })),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => raw(Buffer.from(bytes))),
  fc.string({ unit: 'binary', maxLength: 64 }).map((text) => raw(text)),
);

/** A body for the route: mostly its own shape bent out of it, sometimes something else entirely. */
const bodyFor = (route: Route): fc.Arbitrary<Body | undefined> => {
  const shaped = route.bodySchema ? fitting(route.bodySchema) : objectOfKnownFields;
  const takesBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
  return fc.oneof(
    { weight: takesBody ? 1 : 6, arbitrary: fc.constant(undefined) },
    { weight: takesBody ? 6 : 1, arbitrary: shaped.map(json) },
    { weight: takesBody ? 3 : 1, arbitrary: hostileBody },
  );
};

// ---------------------------------------------------------------------------------------------------------------

/** A request to `route`: path parameters, query and body drawn from the above. */
export function requestFor(route: Route, knownValues: string[]): fc.Arbitrary<FuzzRequest> {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  return fc
    .tuple(
      fc.array(pathValue(knownValues), { minLength: names.length, maxLength: names.length }),
      queryString(route.queryParams),
      bodyFor(route),
    )
    .map(([values, query, body]) => {
      let i = 0;
      const path = route.path.replace(/\{\w+\}/g, () => values[i++]);
      return {
        method: route.method,
        target: `${path}${query}`,
        headers: { accept: 'application/json', ...(body?.headers ?? {}) },
        body: body?.bytes,
      };
    });
}
