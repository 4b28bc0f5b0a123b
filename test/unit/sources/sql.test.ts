// The pure parts of the SQL source: a row becomes the record the same list line would, NULL is
// "not given", names are quoted for each dialect, and no message shows the password.
import { describe, expect, it } from 'vitest';
import { dbColumns, KAMAILIO_COLUMNS, redactUrl } from '../../../src/config/db.js';
import { makeDestinationRecord } from '../../../src/dispatch/list-file.js';
import { dbError, dbTarget, quoteIdent } from '../../../src/sources/sql-client.js';
import { rowToRecord, selectSql } from '../../../src/sources/sql.js';
import { sourceOrigin } from '../../../src/sources/index.js';

const row = { id: 7, setid: 1, destination: 'sip:10.0.0.1:5060', flags: 8, priority: 5, attrs: 'weight=50;duid=a', description: 'x' };

describe('rowToRecord', () => {
  it('gives the record the list line "1 sip:10.0.0.1:5060 8 5 weight=50;duid=a" gives, with the id as its place', () => {
    const line = makeDestinationRecord({ setId: '1', destination: 'sip:10.0.0.1:5060', flags: '8', priority: '5', attrs: 'weight=50;duid=a' }, 7);
    expect(rowToRecord(row, KAMAILIO_COLUMNS)).toEqual({ id: 7, r: line });
  });

  it('NULL flags, priority and attrs are Kamailio defaults; NULL set or empty destination is a reason', () => {
    const r = rowToRecord({ ...row, flags: null, priority: null, attrs: null }, KAMAILIO_COLUMNS).r;
    expect(r.ok && [r.value.flags, r.value.priority, r.value.attrs.raw]).toEqual([0, 0, '']);
    expect(rowToRecord({ ...row, setid: null }, KAMAILIO_COLUMNS).r).toEqual({ ok: false, reason: 'setid is NULL' });
    expect(rowToRecord({ ...row, destination: '' }, KAMAILIO_COLUMNS).r).toEqual({ ok: false, reason: 'destination is empty' });
    expect(rowToRecord({ ...row, priority: -3 }, KAMAILIO_COLUMNS).r.ok).toBe(true);
  });

  it('reads configured column names', () => {
    const c = dbColumns('setid=grp,destination=uri', 'SIPLB_DB_COLUMNS');
    const r = rowToRecord({ id: 1, grp: 4, uri: '10.0.0.9', flags: 0, priority: 0, attrs: '' }, c).r;
    expect(r.ok && [r.value.setId, r.value.uri]).toEqual([4, 'sip:10.0.0.9']);
  });
});

describe('SQL text', () => {
  it('quotes every name for its dialect, schema.table included', () => {
    const cfg = { dbUrl: 'postgres://u@h/d', dbTable: 'lb.dispatcher', dbColumns: KAMAILIO_COLUMNS, dsLoadMode: 1 as const };
    expect(selectSql(cfg, 'postgres')).toBe('SELECT "id", "setid", "destination", "flags", "priority", "attrs" FROM "lb"."dispatcher" ORDER BY "id"');
    expect(quoteIdent('mysql', 'lb.dispatcher')).toBe('`lb`.`dispatcher`');
  });
});

describe('messages never show the password', () => {
  it('redactUrl, dbTarget, sourceOrigin and dbError', () => {
    const url = 'mysql://kamailio:s3cret@db.example.com/kamailio';
    expect(redactUrl(url)).toBe('mysql://kamailio:***@db.example.com/kamailio');
    expect(dbTarget(url)).toEqual({ dialect: 'mysql', host: 'db.example.com', port: 3306, shown: 'mysql://kamailio:***@db.example.com/kamailio' });
    expect(dbTarget('postgresql://u@h/d').port).toBe(5432);
    const origin = sourceOrigin({ listFile: '/x', dsLoadMode: 1, dbUrl: url, dbTable: 'dispatcher', dbColumns: KAMAILIO_COLUMNS });
    expect([origin.variable, origin.name, origin.where(3)]).toEqual(['SIPLB_DB_URL', 'table dispatcher in mysql://kamailio:***@db.example.com/kamailio', 'table dispatcher, id 3']);
    const err = dbError(Object.assign(new Error(`connect ETIMEDOUT for ${redactUrl(url)}`), { code: 'ETIMEDOUT' }), dbTarget(url), 'connect to');
    expect(err.message).toBe('SIPLB_DB_URL: cannot connect to mysql at db.example.com:3306 (mysql://kamailio:***@db.example.com/kamailio): connect ETIMEDOUT for <url> (ETIMEDOUT)');
    expect(err.message).not.toContain('s3cret');
  });
});
