// Every SIPLB_* variable with values it accepts and values it refuses. Data, not code: one row per
// case, and a check that no variable of CONFIG_VARS is left without both kinds of row.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiplbConfigError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/config/load.js';
import { nodeHasReusePort, reusePortFlag } from '../../../src/config/parse.js';
import { CONFIG_VARS, type SiplbConfig } from '../../../src/config/schema.js';

const root = join(import.meta.dirname, '..', '..', '..');
const shipped = join(root, 'dispatcher.list');
const routesDir = join(root, 'test', 'fixtures', 'routes');

// [variable, raw value, field, expected value]
const good: Array<[string, string, keyof SiplbConfig, unknown]> = [
  ['SIPLB_LISTEN', '10.0.0.1:5080', 'listen', [{ transport: 'udp', host: '10.0.0.1', address: '10.0.0.1', port: 5080, family: 4 }]],
  ['SIPLB_ADVERTISE', 'sip.example.com', 'advertise', { host: 'sip.example.com', port: 5060 }],
  ['SIPLB_ADVERTISE', '203.0.113.7:5099', 'advertise', { host: '203.0.113.7', port: 5099 }],
  ['SIPLB_LIST_FILE', shipped, 'listFile', shipped],
  ['SIPLB_DS_LOAD_MODE', '0', 'dsLoadMode', 0],
  ['SIPLB_DB_URL', 'postgres://siplb:pw@127.0.0.1:5432/kamailio', 'dbUrl', 'postgres://siplb:pw@127.0.0.1:5432/kamailio'],
  ['SIPLB_DB_URL', 'mysql://kamailio:kamailiorw@db.example.com/kamailio', 'dbUrl', 'mysql://kamailio:kamailiorw@db.example.com/kamailio'],
  ['SIPLB_DB_URL', '', 'dbUrl', ''],
  ['SIPLB_DB_TABLE', 'lb.dispatcher', 'dbTable', 'lb.dispatcher'],
  ['SIPLB_DB_COLUMNS', 'setid=grp, destination=uri', 'dbColumns', { id: 'id', setid: 'grp', destination: 'uri', flags: 'flags', priority: 'priority', attrs: 'attrs', description: 'description' }],
  ['SIPLB_SET', '0', 'set', 0],
  ['SIPLB_SET', '2147483647', 'set', 2147483647],
  ['SIPLB_ALG', '15', 'alg', 15],
  ['SIPLB_ALG', '0', 'alg', 0],
  ['SIPLB_ALG', '10', 'alg', 10],
  ['SIPLB_ALG', '64', 'alg', 64],
  ['SIPLB_ALG', '12', 'alg', 12],
  ['SIPLB_LIMIT', '3', 'limit', 3],
  ['SIPLB_FLAGS', '3', 'flags', 3],
  ['SIPLB_FLAGS', '0x1', 'flags', 1],
  ['SIPLB_FLAGS', '0X03', 'flags', 3],
  ['SIPLB_FLAGS', '0', 'flags', 0],
  ['SIPLB_USE_DEFAULT', 'yes', 'useDefault', true],
  ['SIPLB_USE_DEFAULT', 'TRUE', 'useDefault', true],
  ['SIPLB_USE_DEFAULT', '1', 'useDefault', true],
  ['SIPLB_RECORD_ROUTE', 'no', 'recordRoute', false],
  ['SIPLB_RECORD_ROUTE', 'False', 'recordRoute', false],
  ['SIPLB_FORCE_RPORT', '0', 'forceRport', false],
  ['SIPLB_HASH_MODE', 'kamailio', 'hashMode', 'kamailio'],
  ['SIPLB_HASH_MODE', 'Rehash', 'hashMode', 'rehash'],
  ['SIPLB_HASH_TEMPLATE', '$fU@$ci', 'hashTemplate', '$fU@$ci'],
  ['SIPLB_HASH_TEMPLATE', '$hdr(X-Tenant)$ci', 'hashTemplate', '$hdr(X-Tenant)$ci'],
  ['SIPLB_DS_HASH_EXPIRE', '3600', 'dsHashExpire', 3600],
  ['SIPLB_DS_HASH_INITEXPIRE', '60', 'dsHashInitExpire', 60],
  ['SIPLB_MODE', 'stateless', 'mode', 'stateless'],
  ['SIPLB_ROUTES', '', 'routes', undefined],
  ['SIPLB_ROUTES', join(routesDir, 'min.json'), 'routes', { file: join(routesDir, 'min.json'), rules: [{ match: { prefix: ['*97'] }, set: 2 }] }],
  ['SIPLB_WORKERS', '64', 'workers', 64],
  ['SIPLB_WORKERS', '2', 'workers', 2],
  ['SIPLB_FR_TIMER', '100', 'frTimer', 100],
  ['SIPLB_FR_INV_TIMER', '180000', 'frInvTimer', 180000],
  ['SIPLB_T1', '250', 't1', 250],
  ['SIPLB_T2', '500', 't2', 500],
  ['SIPLB_MARK_FAILED', 'ip', 'markFailed', 'ip'],
  ['SIPLB_MARK_FAILED', 'T', 'markFailed', 't'],
  ['SIPLB_MARK_FAILED', '', 'markFailed', ''],
  ['SIPLB_NO_DEST_CODE', '404', 'noDestCode', 404],
  ['SIPLB_NO_DEST_REASON', 'No Destination', 'noDestReason', 'No Destination'],
  ['SIPLB_MAX_MESSAGE_SIZE', '512', 'maxMessageSize', 512],
  ['SIPLB_OVERLOAD_DELAY', '0', 'overloadDelay', 0],
  ['SIPLB_OVERLOAD_DELAY', '10000', 'overloadDelay', 10_000],
  ['SIPLB_OVERLOAD_RETRY_AFTER', '30', 'overloadRetryAfter', 30],
  ['SIPLB_WARMUP_CALLS', '0', 'warmupCalls', 0],
  ['SIPLB_DRAIN_TIMEOUT', '0', 'drainTimeout', 0],
  ['SIPLB_RR_SECRET', 'sixteen-chars-ok', 'rrSecret', 'sixteen-chars-ok'],
  ['SIPLB_SOCKET_BUFFER', '0', 'socketBuffer', 0],
  ['SIPLB_SOCKET_BUFFER', '16777216', 'socketBuffer', 16777216],
  ['SIPLB_REUSE_PORT', 'no', 'reusePort', false],
  ['SIPLB_EVENT_WEBHOOK', 'http://127.0.0.1:8080/siplb-events', 'eventWebhook', 'http://127.0.0.1:8080/siplb-events'],
  ['SIPLB_EVENT_WEBHOOK', 'HTTPS://Hooks.Example.com', 'eventWebhook', 'https://hooks.example.com/'],
  ['SIPLB_EVENT_WEBHOOK', 'http://[::1]:9000/x?y=1', 'eventWebhook', 'http://[::1]:9000/x?y=1'],
  ['SIPLB_EVENT_WEBHOOK', '', 'eventWebhook', ''],
  ['SIPLB_EVENT_COMMAND', 'logger -t siplb "$SIPLB_EVENT $SIPLB_EVENT_URI"', 'eventCommand', 'logger -t siplb "$SIPLB_EVENT $SIPLB_EVENT_URI"'],
  ['SIPLB_EVENT_QUEUE', '1', 'eventQueue', 1],
  ['SIPLB_EVENT_QUEUE', '100000', 'eventQueue', 100_000],
  ['SIPLB_EVENT_RETRIES', '0', 'eventRetries', 0],
  ['SIPLB_MAX_DESTINATIONS', '65536', 'maxDestinations', 65_536],
  ['SIPLB_RELOAD_DELTA', '0', 'reloadDelta', 0],
  ['SIPLB_DS_DNS_INTERVAL', '0', 'dsDnsInterval', 0],
  ['SIPLB_DS_DNS_INTERVAL', '86400', 'dsDnsInterval', 86_400],
  ['SIPLB_DNS_SERVERS', '127.0.0.1:5353', 'dnsServers', ['127.0.0.1:5353']],
  ['SIPLB_DNS_SERVERS', '10.0.0.53, [2001:db8::53]:5353,::1', 'dnsServers', ['10.0.0.53', '[2001:db8::53]:5353', '::1']],
  ['SIPLB_DNS_SERVERS', '', 'dnsServers', []],
  ['SIPLB_WATCH_LIST', '1', 'watchList', true],
  ['SIPLB_STATE_FILE', '/var/lib/siplb/state.msgpack', 'stateFile', '/var/lib/siplb/state.msgpack'],
  ['SIPLB_STATE_INTERVAL', '86400', 'stateInterval', 86_400],
  ['SIPLB_REUSE_PORT', '0', 'reusePort', false],
  ['SIPLB_LOG_LEVEL', 'debug', 'logLevel', 'debug'],
  ['SIPLB_LOG_LEVEL', 'silent', 'logLevel', 'silent'],
  ['SIPLB_SERVER_HEADER', '', 'serverHeader', ''],
  ['SIPLB_SERVER_HEADER', 'acme-lb/2.0', 'serverHeader', 'acme-lb/2.0'],
  ['SIPLB_FAILOVER_AFTER_PROVISIONAL', 'yes', 'failoverAfterProvisional', true],
  ['SIPLB_FOREIGN_ROUTE', 'DROP', 'foreignRoute', 'drop'],
  ['SIPLB_ALLOW', '', 'allow', { text: '', blocks: [] }],
  ['SIPLB_ALLOW', '192.0.2.0/24', 'allow', { text: '192.0.2.0/24', blocks: [{ v6: false, words: [0, 0, 0, 0xc0000200], prefix: 24 }] }],
  ['SIPLB_TRUSTED', '[::1], 10.1.2.3', 'trusted', { text: '[::1], 10.1.2.3', blocks: [{ v6: true, words: [0, 0, 0, 1], prefix: 128 }, { v6: false, words: [0, 0, 0, 0x0a010203], prefix: 32 }] }],
  ['SIPLB_FLOOD_LIMIT', '0', 'floodLimit', 0],
  ['SIPLB_FLOOD_WINDOW', '2000', 'floodWindow', 2000],
  ['SIPLB_FLOOD_BLOCK', '120', 'floodBlock', 120],
  ['SIPLB_SCANNER_UA', '', 'scannerUserAgents', []],
  ['SIPLB_SCANNER_UA', 'Friendly-Scanner, sipcli', 'scannerUserAgents', ['friendly-scanner', 'sipcli']],
  ['SIPLB_MAX_TRANSACTIONS', '1000', 'maxTransactions', 1000],
  ['SIPLB_WORKER_SEND', 'RING', 'workerSend', 'ring'],
  ['SIPLB_LISTEN', '10.0.0.1:5080 name lan', 'listen', [{ transport: 'udp', host: '10.0.0.1', address: '10.0.0.1', port: 5080, family: 4, name: 'lan' }]],
  ['SIPLB_DS_PING_INTERVAL', '0', 'pingInterval', 0],
  ['SIPLB_DS_PING_METHOD', 'INFO', 'pingMethod', 'INFO'],
  ['SIPLB_DS_PING_FROM', 'sip:lb@example.com', 'pingFrom', 'sip:lb@example.com'],
  ['SIPLB_DS_PING_TIMEOUT', '500', 'pingTimeout', 500],
  ['SIPLB_DS_PROBING_THRESHOLD', '3', 'probingThreshold', 3],
  ['SIPLB_DS_INACTIVE_THRESHOLD', '2', 'inactiveThreshold', 2],
  ['SIPLB_DS_PROBING_MODE', '1', 'probingMode', 1],
  ['SIPLB_DS_PING_REPLY_CODES', 'class=2;code=480;code=404', 'pingReplyCodes', { classes: new Set([2]), codes: new Set([480, 404]) }],
  ['SIPLB_DS_PING_LATENCY_STATS', 'no', 'pingLatencyStats', false],
  ['SIPLB_DS_LATENCY_ESTIMATOR_ALPHA', '500', 'latencyEstimatorAlpha', 500],
  ['SIPLB_ADMIN', '127.0.0.2:6000', 'admin', { host: '127.0.0.2', port: 6000 }],
  ['SIPLB_ADMIN', '[::1]:6000', 'admin', { host: '::1', port: 6000 }],
  ['SIPLB_ADMIN', '', 'admin', undefined],
  ['SIPLB_ADMIN_TOKEN', 'abcdefghijklmnop', 'adminToken', 'abcdefghijklmnop'],
  ['SIPLB_ADMIN_TOKEN', '', 'adminToken', undefined],
  ['SIPLB_REGISTER_SETS', '10=Media@LB.example.com, 11=sip:conf@lb.example.com', 'registerSets', new Map([['media@lb.example.com', 10], ['conf@lb.example.com', 11]])],
  ['SIPLB_REGISTER_ALLOW', '10.0.0.0/8', 'registerAllow', { text: '10.0.0.0/8', blocks: [{ v6: false, prefix: 8, words: [0, 0, 0, 0x0a000000] }] }],
  ['SIPLB_REGISTER_MAX', '8', 'registerMax', 8],
  ['SIPLB_REGISTER_MIN_EXPIRES', '30', 'registerMinExpires', 30],
  ['SIPLB_REGISTER_MAX_EXPIRES', '600', 'registerMaxExpires', 600],
];

// [variable, raw value, text the message must contain besides the variable name]
const bad: Array<[string, string, string]> = [
  ['SIPLB_LISTEN', '127.0.0.1', 'expected a comma-separated list of [udp:]host:port'],
  ['SIPLB_LISTEN', '', 'got ""'],
  ['SIPLB_LISTEN', 'localhost:5060', 'IPv4 address or a bracketed IPv6'],
  ['SIPLB_LISTEN', '127.0.0.1:0', 'got "127.0.0.1:0"'],
  ['SIPLB_LISTEN', '127.0.0.1:65536', 'host:port'],
  ['SIPLB_LISTEN', '::1:5060', 'bracketed IPv6'],
  ['SIPLB_LISTEN', '[::g]:5060', 'bracketed IPv6'],
  ['SIPLB_LISTEN', 'tcp:127.0.0.1:5060', 'only UDP is supported'],
  ['SIPLB_LISTEN', '127.0.0.1:5060,', 'host:port'],
  ['SIPLB_LISTEN', '127.0.0.1:5060,127.0.0.1:5060', 'listed twice'],
  ['SIPLB_LISTEN', '127.0.0.1:5060 name a,127.0.0.1:5062 name a', 'name a is given twice'],
  ['SIPLB_DS_PING_INTERVAL', '-1', 'from 0 to 3600'],
  ['SIPLB_DS_PING_METHOD', 'OPT IONS', 'SIP method'],
  ['SIPLB_DS_PING_FROM', 'dispatcher@localhost', 'sip: URI'],
  ['SIPLB_DS_PING_TIMEOUT', '50', 'from 100 to 60000'],
  ['SIPLB_DS_PROBING_THRESHOLD', '0', 'from 1 to 1000'],
  ['SIPLB_DS_INACTIVE_THRESHOLD', 'x', 'from 1 to 1000'],
  ['SIPLB_DS_PROBING_MODE', '4', 'one of 0,1,2,3'],
  ['SIPLB_DS_PING_REPLY_CODES', 'class=7', 'class=N and code=NNN'],
  ['SIPLB_DS_PING_REPLY_CODES', 'code=99', 'class=N and code=NNN'],
  ['SIPLB_DS_PING_LATENCY_STATS', 'maybe', 'got "maybe"'],
  ['SIPLB_DS_LATENCY_ESTIMATOR_ALPHA', '1001', 'from 0 to 1000'],
  ['SIPLB_ADMIN', '0.0.0.0:5081', 'is not a loopback address (127.0.0.0/8, ::1); set SIPLB_ADMIN_TOKEN to listen there'],
  ['SIPLB_ADMIN_TOKEN', 'short-token', 'expected 16 to 1024 characters, got 11 (the value is not shown)'],
  ['SIPLB_ADMIN_TOKEN', 'has a space inside it', 'visible ASCII characters without spaces'],
  ['SIPLB_ADMIN', '127.0.0.1', 'host:port'],
  ['SIPLB_REGISTER_SETS', 'media@lb.example.com', 'set=user@host'],
  ['SIPLB_REGISTER_SETS', '10=a@b,11=A@B', 'listed twice'],
  ['SIPLB_REGISTER_ALLOW', '10.0.0.0/33', 'SIPLB_REGISTER_ALLOW'],
  ['SIPLB_REGISTER_MAX', '0', 'from 1 to 4096'],
  ['SIPLB_REGISTER_MIN_EXPIRES', '0', 'from 1 to 86400'],
  ['SIPLB_REGISTER_MAX_EXPIRES', '30', 'below SIPLB_REGISTER_MIN_EXPIRES'],
  ['SIPLB_ADVERTISE', '', 'expected host[:port]'],
  ['SIPLB_ADVERTISE', 'bad host', 'expected host[:port]'],
  ['SIPLB_ADVERTISE', 'example.com:70000', 'port 1 to 65535'],
  ['SIPLB_ADVERTISE', '::1', 'bracketed IPv6'],
  ['SIPLB_ADVERTISE', '1.2.3', 'host[:port]'],
  ['SIPLB_LIST_FILE', '/nonexistent/dispatcher.list', 'no such file'],
  ['SIPLB_LIST_FILE', root, 'expected a regular file'],
  ['SIPLB_LIST_FILE', '', 'a path to a dispatcher list file'],
  ['SIPLB_DS_LOAD_MODE', '2', 'expected one of 0,1, got "2"'],
  ['SIPLB_DB_URL', 'http://127.0.0.1/db', 'postgres://user:password@host[:port]/database'],
  ['SIPLB_DB_URL', 'postgres://siplb:topsecret@127.0.0.1', 'got "postgres://siplb:***@127.0.0.1"'],
  ['SIPLB_DB_TABLE', 'dispatcher; DROP TABLE x', 'a table name or schema.table'],
  ['SIPLB_DB_TABLE', '', 'a table name or schema.table'],
  ['SIPLB_DB_COLUMNS', 'setid=grp,setid=g2', 'key=column pairs'],
  ['SIPLB_DB_COLUMNS', 'uri=destination', 'key=column pairs'],
  ['SIPLB_DB_COLUMNS', 'attrs=a b', 'key=column pairs'],
  ['SIPLB_SET', '-1', 'expected an integer from 0 to 2147483647, got "-1"'],
  ['SIPLB_SET', '1.5', 'got "1.5"'],
  ['SIPLB_SET', '', 'got ""'],
  ['SIPLB_ALG', '16', 'expected one of 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,64, got "16"'],
  ['SIPLB_ALG', 'rr', 'got "rr"'],
  ['SIPLB_DS_HASH_EXPIRE', '0', 'expected an integer from 1 to 2592000 (s), got "0"'],
  ['SIPLB_DS_HASH_INITEXPIRE', '1h', 'got "1h"'],
  ['SIPLB_LIMIT', 'all', 'expected an integer from 0'],
  ['SIPLB_FLAGS', '4', 'a bitmask of 1 (hash user only) and 2 (failover)'],
  ['SIPLB_FLAGS', '0x10', 'got "0x10"'],
  ['SIPLB_FLAGS', '0xZZ', 'got "0xZZ"'],
  ['SIPLB_FLAGS', '4294967297', 'got "4294967297"'],
  ['SIPLB_USE_DEFAULT', 'maybe', 'expected a boolean (1, 0, true, false, yes, no), got "maybe"'],
  ['SIPLB_RECORD_ROUTE', 'on', 'expected a boolean'],
  ['SIPLB_FORCE_RPORT', '2', 'expected a boolean'],
  ['SIPLB_HASH_MODE', 'consistent', 'expected one of rehash, kamailio, got "consistent"'],
  ['SIPLB_HASH_TEMPLATE', 'ci', 'expected a template of $name tokens'],
  ['SIPLB_HASH_TEMPLATE', '$ci$', 'got "$ci$"'],
  ['SIPLB_HASH_TEMPLATE', '$1', 'got "$1"'],
  ['SIPLB_HASH_TEMPLATE', '$fU @$ci', 'without spaces'],
  ['SIPLB_HASH_TEMPLATE', '', 'got ""'],
  ['SIPLB_MODE', 'stateful-ish', 'expected one of stateful, stateless'],
  ['SIPLB_ROUTES', join(routesDir, 'none.yaml'), 'no such file'],
  ['SIPLB_ROUTES', join(routesDir, 'unknown-field.yaml'), 'unknown-field.yaml: rule 1: colour: unknown field'],
  ['SIPLB_WORKERS', '65', 'expected an integer from 0 to 64, got "65"'],
  ['SIPLB_WORKERS', 'auto', 'got "auto"'],
  ['SIPLB_FR_TIMER', '99', 'expected an integer from 100 to 600000 (ms), got "99"'],
  ['SIPLB_FR_TIMER', '5s', 'got "5s"'],
  ['SIPLB_FR_INV_TIMER', '600001', 'from 100 to 600000 (ms)'],
  ['SIPLB_T1', '10', 'from 50 to 10000 (ms)'],
  ['SIPLB_T2', '60001', 'from 100 to 60000 (ms)'],
  ['SIPLB_FAILOVER_CODES', '5xx,abc', 'codes 300-599 or classes 3xx-5xx'],
  ['SIPLB_FAILOVER_CODES', '5xx,6xx', '6xx cannot fail over'],
  ['SIPLB_FAILOVER_CODES', '603', 'remove "603"'],
  ['SIPLB_FAILOVER_CODES', '200', 'got "200"'],
  ['SIPLB_FAILOVER_CODES', '2xx', 'got "2xx"'],
  ['SIPLB_FAILOVER_CODES', '5xx,,408', 'got "5xx,,408"'],
  ['SIPLB_MARK_FAILED', 'x', 'expected one of "" (empty), i, t, ip, tp, got "x"'],
  ['SIPLB_MARK_FAILED', 'a', 'got "a"'],
  ['SIPLB_NO_DEST_CODE', '200', 'expected an integer from 300 to 699, got "200"'],
  ['SIPLB_NO_DEST_CODE', '700', 'got "700"'],
  ['SIPLB_NO_DEST_REASON', '', '1 to 128 characters'],
  ['SIPLB_NO_DEST_REASON', 'Busy\r\nX-Injected: 1', 'without control characters'],
  ['SIPLB_MAX_MESSAGE_SIZE', '511', 'from 512 to 65535 (bytes)'],
  ['SIPLB_MAX_MESSAGE_SIZE', '65536', 'got "65536"'],
  ['SIPLB_OVERLOAD_DELAY', '10001', 'from 0 to 10000 (ms)'],
  ['SIPLB_OVERLOAD_DELAY', '-1', 'from 0 to 10000 (ms)'],
  ['SIPLB_OVERLOAD_RETRY_AFTER', '3601', 'from 0 to 3600 (s)'],
  ['SIPLB_WARMUP_CALLS', '100001', 'from 0 to 100000'],
  ['SIPLB_DRAIN_TIMEOUT', '600001', 'from 0 to 600000 (ms)'],
  ['SIPLB_RR_SECRET', 'too-short', '16 to 1024 characters'],
  ['SIPLB_RR_SECRET', 'sixteen-chars-ok\n', 'without control characters'],
  ['SIPLB_SOCKET_BUFFER', '4M', 'expected an integer from 0 to 268435456 (bytes), got "4M"'],
  ['SIPLB_REUSE_PORT', 'on', 'expected a boolean (1, 0, true, false, yes, no), got "on"'],
  ['SIPLB_LOG_LEVEL', 'verbose', 'expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
  ['SIPLB_SERVER_HEADER', 'siplb\r\n', 'without control characters'],
  ['SIPLB_SERVER_HEADER', 'x'.repeat(257), 'at most 256 characters'],
  ['SIPLB_FAILOVER_AFTER_PROVISIONAL', 'sometimes', 'expected a boolean'],
  ['SIPLB_FOREIGN_ROUTE', 'follow', 'expected one of reject, drop'],
  ['SIPLB_ALLOW', '10.0.0.0/33', 'prefix length outside 0-32'],
  ['SIPLB_ALLOW', 'example.com', 'is not an IPv4 or IPv6 address'],
  ['SIPLB_TRUSTED', '10.0.0.1,,10.0.0.2', 'an empty item'],
  ['SIPLB_TRUSTED', '2001:db8::/129', 'prefix length outside 0-128'],
  ['SIPLB_FLOOD_LIMIT', '-5', 'from 0 to 10000000'],
  ['SIPLB_FLOOD_WINDOW', '50', 'from 100 to 60000 (ms)'],
  ['SIPLB_FLOOD_BLOCK', '0', 'from 1 to 86400 (s)'],
  ['SIPLB_SCANNER_UA', 'a,,b', 'non-empty words'],
  ['SIPLB_MAX_TRANSACTIONS', '99', 'from 100 to 10000000'],
  ['SIPLB_WORKER_SEND', 'fd', 'expected one of direct, ring'],
  ['SIPLB_EVENT_WEBHOOK', 'ftp://example.com/x', 'expected an http:// or https:// URL'],
  ['SIPLB_EVENT_WEBHOOK', '127.0.0.1:8080/events', 'expected an http:// or https:// URL'],
  ['SIPLB_EVENT_WEBHOOK', 'http://', 'got "http://"'],
  ['SIPLB_EVENT_WEBHOOK', 'http://exa mple.com/', 'expected an http:// or https:// URL'],
  ['SIPLB_EVENT_WEBHOOK', 'http://example.com/\nX-Injected: 1', 'expected an http:// or https:// URL'],
  ['SIPLB_EVENT_COMMAND', 'echo a\nrm -rf /tmp/x', 'without control characters'],
  ['SIPLB_EVENT_COMMAND', 'x'.repeat(4097), 'at most 4096 characters'],
  ['SIPLB_EVENT_QUEUE', '0', 'from 1 to 100000'],
  ['SIPLB_EVENT_RETRIES', '101', 'from 0 to 100'],
  ['SIPLB_MAX_DESTINATIONS', '0', 'from 1 to 65536'],
  ['SIPLB_RELOAD_DELTA', '-1', 'from 0 to 3600'],
  ['SIPLB_DS_DNS_INTERVAL', '86401', 'from 0 to 86400'],
  ['SIPLB_DNS_SERVERS', 'dns.example.com', 'got "dns.example.com"'],
  ['SIPLB_DNS_SERVERS', '127.0.0.1:70000', 'ip:port or [ipv6]:port'],
  ['SIPLB_DNS_SERVERS', '2001:db8::53:5353x', 'got "2001:db8::53:5353x"'],
  ['SIPLB_WATCH_LIST', 'often', 'expected a boolean'],
  ['SIPLB_STATE_FILE', 'x'.repeat(4097), 'at most 4096'],
  ['SIPLB_STATE_INTERVAL', '0', 'from 1 to 86400'],
];

function errorOf(env: Record<string, string>): SiplbConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof SiplbConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('SIPLB_* values', () => {
  it.each(good)('%s=%j is accepted', (name, raw, field, expected) => {
    const config = loadConfig({ [name]: raw });
    expect(config[field]).toEqual(expected);
  });

  it.each(bad)('%s=%j is refused', (name, raw, fragment) => {
    const err = errorOf({ [name]: raw });
    expect(err.variable).toBe(name);
    expect(err.code).toBe('SIPLB_ERR_CONFIG');
    expect(err.message.startsWith(`${name}: `)).toBe(true);
    expect(err.message).toContain(fragment);
  });

  it('covers every variable with a good and a bad value', () => {
    const names = CONFIG_VARS.map((v) => v.name);
    const withGood = new Set(good.map(([n]) => n));
    const withBad = new Set(bad.map(([n]) => n));
    // SIPLB_FAILOVER_CODES' good values are checked as sets in load.test.ts.
    withGood.add('SIPLB_FAILOVER_CODES');
    expect(names.filter((n) => !withGood.has(n))).toEqual([]);
    expect(names.filter((n) => !withBad.has(n))).toEqual([]);
  });

  it('takes a non-loopback SIPLB_ADMIN with SIPLB_ADMIN_TOKEN, and never repeats the token', () => {
    expect(loadConfig({ SIPLB_ADMIN: '0.0.0.0:5081', SIPLB_ADMIN_TOKEN: 'x'.repeat(16) }).admin).toEqual({ host: '0.0.0.0', port: 5081 });
    expect(errorOf({ SIPLB_ADMIN: '192.0.2.1:5081' }).message).toBe('SIPLB_ADMIN: "192.0.2.1:5081" is not a loopback address (127.0.0.0/8, ::1); set SIPLB_ADMIN_TOKEN to listen there');
    expect(errorOf({ SIPLB_ADMIN_TOKEN: 'secret-secret' }).message).not.toContain('secret');
  });

  it('refuses SIPLB_T2 below SIPLB_T1', () => {
    const err = errorOf({ SIPLB_T1: '2000', SIPLB_T2: '1000' });
    expect(err.variable).toBe('SIPLB_T2');
    expect(err.message).toBe('SIPLB_T2: expected at least SIPLB_T1 (2000 ms), got "1000"');
  });

  it('refuses SIPLB_ALG=12 in stateless mode with one error naming both variables', () => {
    const err = errorOf({ SIPLB_ALG: '12', SIPLB_MODE: 'stateless' });
    expect(err.variable).toBe('SIPLB_MODE');
    expect(err.message).toBe('SIPLB_MODE: stateless cannot fork: SIPLB_ALG=12 (parallel forking) needs SIPLB_MODE=stateful, or choose another SIPLB_ALG');
    expect(loadConfig({ SIPLB_ALG: '12' }).mode).toBe('stateful'); // the default mode forks
    expect(loadConfig({ SIPLB_ALG: '11', SIPLB_MODE: 'stateless' }).alg).toBe(11);
  });

  it('names the variable exactly as the brief example shows', () => {
    expect(errorOf({ SIPLB_ALG: '16' }).message).toBe('SIPLB_ALG: expected one of 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,64, got "16"');
  });

  // Node.js added dgram's reusePort in 22.12.0 and 23.1.0; older ones ignore the option silently.
  it.each([
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['23.0.0', false],
    ['23.1.0', true],
    ['24.0.0', true],
    ['v24.21.0', true],
    ['26.10.0', true],
  ] as const)('SIPLB_REUSE_PORT=true on Node.js %s: %s', (version, accepted) => {
    expect(nodeHasReusePort(version)).toBe(accepted);
    const parse = reusePortFlag(version);
    expect(parse('no', 'SIPLB_REUSE_PORT')).toBe(false);
    if (accepted) expect(parse('true', 'SIPLB_REUSE_PORT')).toBe(true);
    else expect(() => parse('yes', 'SIPLB_REUSE_PORT')).toThrow(`SIPLB_REUSE_PORT: needs Node.js 22.12 or later (or 23.1 or later) for SO_REUSEPORT on UDP sockets; this is Node.js ${version}`);
  });

  it(`SIPLB_REUSE_PORT=true on this Node.js (${process.versions.node})`, () => {
    if (nodeHasReusePort(process.versions.node)) {
      expect(loadConfig({ SIPLB_REUSE_PORT: 'true' }).reusePort).toBe(true);
    } else {
      const err = errorOf({ SIPLB_REUSE_PORT: 'true' });
      expect(err.variable).toBe('SIPLB_REUSE_PORT');
      expect(err.message).toContain(`this is Node.js ${process.versions.node}`);
    }
  });
});
