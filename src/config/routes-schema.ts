// The schema of a routing rules file (SIPLB_ROUTES). routes.schema.json at the package root is this
// object printed as JSON, for editors (a YAML file can name it with `$schema` or a
// yaml-language-server comment); a unit test keeps the two equal. Start-up and reload check every
// file against this object (json-schema.ts), then do the checks a schema cannot (regexes compile,
// CIDR blocks parse, a rule has a target) in routes.ts.
import type { JsonSchema } from './json-schema.js';
import { ALGORITHMS, HASH_MODES } from './types.js';

const oneOrList = (item: JsonSchema, description: string): JsonSchema => ({
  description,
  anyOf: [item, { type: 'array', items: item, minItems: 1 }],
});

const METHOD: JsonSchema = { type: 'string', pattern: '^[A-Za-z]+$', description: 'a SIP method name such as INVITE' };

const HEADER: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'regex'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9!%*_+`\'~.-]+$', description: 'a header name (long or compact form: f is From)' },
    regex: { type: 'string', description: 'JavaScript regular expression tested against each value of the header; any match holds' },
  },
};

export const ROUTES_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'siplb routing rules (SIPLB_ROUTES)',
  description: 'Rules tried in order for each new request; the first whose match holds chooses the set, algorithm and options, or rejects. No match: SIPLB_SET and SIPLB_ALG with their options.',
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    $schema: { type: 'string', description: 'where this schema is, for editors; ignored by siplb' },
    rules: { type: 'array', items: { $ref: '#/$defs/rule' } },
  },
  $defs: {
    rule: {
      type: 'object',
      additionalProperties: false,
      description: 'A match and either a target (set, with alg and options defaulting to the SIPLB_* values) or reject.',
      properties: {
        name: { type: 'string', minLength: 1, description: 'shown by siplb ctl routes' },
        match: { $ref: '#/$defs/match' },
        set: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1, description: 'destination set (SIPLB_SET)' },
        alg: { type: 'integer', enum: [...ALGORITHMS], description: 'Kamailio algorithm number (SIPLB_ALG)' },
        limit: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1, description: 'most destinations in the failover list, 0 = no cap (SIPLB_LIMIT)' },
        failover: { type: 'boolean', description: 'fail over to the next destination (SIPLB_FLAGS bit 2)' },
        hash_user_only: { type: 'boolean', description: 'algorithms 1-3 hash only the URI user (SIPLB_FLAGS bit 1)' },
        use_default: { type: 'boolean', description: 'keep the last destination of the set as last resort (SIPLB_USE_DEFAULT)' },
        hash_mode: { type: 'string', enum: [...HASH_MODES], description: 'SIPLB_HASH_MODE' },
        hash_template: { type: 'string', minLength: 1, description: 'what algorithm 7 hashes, e.g. $fU@$ci (SIPLB_HASH_TEMPLATE)' },
        reject: { type: 'integer', minimum: 300, maximum: 699, description: 'answer with this status instead of routing' },
        reason: { type: 'string', minLength: 1, description: 'reason phrase of the reject' },
      },
    },
    match: {
      type: 'object',
      additionalProperties: false,
      description: 'Every condition given must hold; an empty or absent match holds for every request.',
      properties: {
        method: oneOrList(METHOD, 'request method(s), any case'),
        prefix: oneOrList({ type: 'string', minLength: 1 }, 'Request-URI user starts with one of these'),
        user_regex: { type: 'string', minLength: 1, description: 'JavaScript regular expression on the Request-URI user' },
        domain: oneOrList(
          { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9.:\\[\\]_-]+$', description: 'a host name, an address, or *.example.com' },
          'Request-URI host: exact (any case) or *.example.com for any name under example.com',
        ),
        source: oneOrList({ type: 'string', minLength: 1 }, 'source address in one of these IPv4/IPv6 addresses or CIDR blocks'),
        header: oneOrList(HEADER, 'header condition(s): name and a regex on its value'),
      },
    },
  },
};
