import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TABLE, SquallError, errorCode, squallError, FailedException } from '../../topology-api';

describe('error table', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/errors.md'), 'utf8');
  const documented = new Map<string, number>();
  for (const m of doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1], Number(m[2]));

  it('docs/errors.md lists every code with its HTTP status, and nothing else', () => {
    const table = Object.fromEntries(Object.entries(ERROR_TABLE).map(([code, e]) => [code, e.status]));
    expect(Object.fromEntries(documented)).toEqual(table);
  });

  it('builds errors that carry code, status and the detail', () => {
    const err = squallError('ERR_TOPOLOGY_EXISTS', 'wc');
    expect(err).toBeInstanceOf(SquallError);
    expect(err.code).toBe('ERR_TOPOLOGY_EXISTS');
    expect(err.statusCode).toBe(409);
    expect(err.message).toBe('Topology already exists: wc');
    expect(errorCode(err)).toBe('ERR_TOPOLOGY_EXISTS');
  });

  it('reads codes off plain objects, as from another copy of the API', () => {
    expect(errorCode({ code: 'ERR_FAILED_EXCEPTION' })).toBe('ERR_FAILED_EXCEPTION');
    expect(errorCode(new FailedException())).toBe('ERR_FAILED_EXCEPTION');
    expect(errorCode(new Error('x'))).toBeUndefined();
    expect(errorCode('ERR_X')).toBeUndefined();
  });
});
