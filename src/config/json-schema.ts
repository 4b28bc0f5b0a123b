// A small JSON Schema (draft 2020-12) checker for the subset our own schemas use: type, properties,
// required, additionalProperties: false, items, enum, minimum, maximum, minLength, minItems,
// pattern, anyOf and local $ref. It exists so that the schema shipped for editors
// (routes.schema.json) is the very thing start-up validates against, without a validator
// dependency; it reports the first problem with its path, in words an operator can act on.

export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, JsonSchema>>;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: false;
  readonly items?: JsonSchema;
  readonly enum?: readonly (string | number | boolean)[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly minItems?: number;
  readonly pattern?: string;
  readonly anyOf?: readonly JsonSchema[];
}

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

/** Where a problem is (property names and array indexes from the root) and what it is. */
export interface SchemaProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const ARTICLE: Readonly<Record<JsonType, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return `the number ${v}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

function hasType(v: unknown, t: JsonType): boolean {
  switch (t) {
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    default:
      return typeof v === t;
  }
}

/** What a schema accepts, in a few words ("a string or a list"). */
export function describe(s: JsonSchema, root: JsonSchema): string {
  const r = resolve(s, root);
  if (r.enum) return `one of ${r.enum.map((e) => JSON.stringify(e)).join(', ')}`;
  if (r.anyOf) return r.anyOf.map((x) => describe(x, root)).join(' or ');
  const types = r.type === undefined ? [] : typeof r.type === 'string' ? [r.type] : r.type;
  return types.map((t) => ARTICLE[t]).join(' or ') || 'anything';
}

function resolve(s: JsonSchema, root: JsonSchema): JsonSchema {
  if (s.$ref === undefined) return s;
  const name = /^#\/\$defs\/(.+)$/.exec(s.$ref)?.[1];
  const target = name === undefined ? undefined : root.$defs?.[name];
  if (target === undefined) throw new Error(`schema: unresolvable $ref ${s.$ref}`);
  return target;
}

/** The first problem of `value` against `schema`, or undefined when it conforms. */
export function checkSchema(value: unknown, schema: JsonSchema, root: JsonSchema = schema, path: (string | number)[] = []): SchemaProblem | undefined {
  const s = resolve(schema, root);
  const problem = (message: string): SchemaProblem => ({ path, message });
  if (s.anyOf) {
    const results = s.anyOf.map((branch) => checkSchema(value, branch, root, path));
    if (results.some((r) => r === undefined)) return undefined;
    // the branch whose type fits says more than "expected X or Y" (a list with a bad item, say)
    const fitting = s.anyOf.findIndex((b) => {
      const t = resolve(b, root).type;
      return t !== undefined && (typeof t === 'string' ? [t] : t).some((x) => hasType(value, x));
    });
    return fitting >= 0 ? results[fitting] : problem(`expected ${describe(s, root)}, got ${typeOf(value)}`);
  }
  if (s.type !== undefined) {
    const types = typeof s.type === 'string' ? [s.type] : s.type;
    if (!types.some((t) => hasType(value, t))) return problem(`expected ${describe(s, root)}, got ${typeOf(value)}`);
  }
  if (s.enum && !s.enum.includes(value as string)) return problem(`expected ${describe(s, root)}, got ${typeOf(value)}`);
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) return problem(`expected at least ${s.minimum}, got ${value}`);
    if (s.maximum !== undefined && value > s.maximum) return problem(`expected at most ${s.maximum}, got ${value}`);
  }
  if (typeof value === 'string') {
    if (s.minLength !== undefined && value.length < s.minLength) return problem(value === '' ? 'must not be empty' : `must be at least ${s.minLength} characters`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) return problem(`${JSON.stringify(value)} is not ${s.description ?? `of the form /${s.pattern}/`}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) return problem(value.length === 0 ? 'must not be an empty list' : `needs at least ${s.minItems} items`);
    if (s.items) {
      for (let i = 0; i < value.length; i++) {
        const p = checkSchema(value[i], s.items, root, [...path, i]);
        if (p) return p;
      }
    }
  }
  if (hasType(value, 'object')) {
    const obj = value as Record<string, unknown>;
    const props = s.properties ?? {};
    if (s.additionalProperties === false) {
      const unknown = Object.keys(obj).find((k) => !Object.hasOwn(props, k));
      if (unknown !== undefined) return { path: [...path, unknown], message: `unknown field; known: ${Object.keys(props).join(', ')}` };
    }
    for (const k of s.required ?? []) if (!Object.hasOwn(obj, k)) return { path: [...path, k], message: 'is required' };
    for (const [k, sub] of Object.entries(props)) {
      if (!Object.hasOwn(obj, k)) continue;
      const p = checkSchema(obj[k], sub, root, [...path, k]);
      if (p) return p;
    }
  }
  return undefined;
}
