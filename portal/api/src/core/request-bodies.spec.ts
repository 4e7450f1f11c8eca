import { bodyProblem, MAX_BODY_DEPTH, parseSize } from './request-bodies';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? { a: value } : [value];
  return value;
}

describe('request bodies the portal refuses', () => {
  it('takes ordinary bodies, Unicode included', () => {
    expect(bodyProblem({ params: { reason: 'disk full on web-1 ✓ 👩‍👩‍👧', count: 3, tags: ['a', 'b'] }, enabled: true })).toBeUndefined();
    expect(bodyProblem(nested(MAX_BODY_DEPTH))).toBeUndefined();
    expect(bodyProblem([])).toBeUndefined();
    expect(bodyProblem({})).toBeUndefined();
  });

  it('refuses nesting past the limit, naming where, at any depth without overflowing the stack', () => {
    expect(bodyProblem({ params: nested(MAX_BODY_DEPTH) })).toMatch(/^body\.params\.a\[0\]\.a.* is nested deeper than 64 levels$/);
    expect(bodyProblem(nested(1_000_000))).toMatch(/nested deeper than 64 levels/);
  });

  it('refuses NUL characters and lone surrogates, which PostgreSQL cannot store, in values and property names', () => {
    expect(bodyProblem({ params: { reason: 'a\u0000b' } })).toBe('body.params.reason holds a NUL character (\\u0000)');
    expect(bodyProblem({ names: ['ok', 'x\uD800'] })).toMatch(/^body\.names\[1\] holds a lone UTF-16 surrogate/);
    expect(bodyProblem({ labels: { ['\uDC00']: 'x' } })).toMatch(/^a property name in body\.labels holds a lone UTF-16 surrogate/);
    expect(bodyProblem({ emoji: '\uD83D\uDE00' })).toBeUndefined();
  });

  it('reads sizes as BATON_BODY_LIMIT is written', () => {
    expect(parseSize('100kb')).toBe(102_400);
    expect(parseSize('5MB')).toBe(5 * 1024 * 1024);
    expect(parseSize('512b')).toBe(512);
  });
});
