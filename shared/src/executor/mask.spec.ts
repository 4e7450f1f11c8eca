import { MASK, SecretMasker, maskText } from './mask';

/** Feeds the chunks through one masker and returns everything it emitted, and what each push emitted. */
function stream(secrets: string[], chunks: string[]): { text: string; pushed: string[] } {
  const masker = new SecretMasker(secrets);
  const pushed = chunks.map((chunk) => masker.push(chunk));
  return { text: pushed.join('') + masker.flush(), pushed };
}

describe('maskText', () => {
  it('replaces every occurrence of every secret', () => {
    expect(maskText('token=hunter2 again hunter2, key=s3cr3t!', ['hunter2', 's3cr3t!'])).toBe('token=*** again ***, key=***');
  });

  it('leaves text without secrets alone, and ignores empty secret values', () => {
    expect(maskText('nothing to hide', [])).toBe('nothing to hide');
    expect(maskText('nothing to hide', [''])).toBe('nothing to hide');
  });

  it('masks overlapping secrets as one run, showing no character of either', () => {
    expect(maskText('xabcdx', ['abc', 'bcd'])).toBe(`x${MASK}x`);
    expect(maskText('hunter2hunter2', ['hunter2'])).toBe(MASK);
  });

  it('prefers the longest secret starting at a position', () => {
    expect(maskText('pass-word-long', ['pass', 'pass-word-long'])).toBe(MASK);
  });

  it('masks text with multi-byte characters around and inside the secret', () => {
    expect(maskText('ключ: пароль🔑42 ✓', ['пароль🔑42'])).toBe('ключ: *** ✓');
  });

  it('treats regular-expression characters in a secret literally', () => {
    expect(maskText('a.*b and axxb', ['a.*b'])).toBe('*** and axxb');
  });
});

describe('SecretMasker', () => {
  it('masks a secret split across two chunks', () => {
    expect(stream(['hunter2'], ['token: hun', 'ter2\n']).text).toBe('token: ***\n');
  });

  it('masks a secret split across three chunks', () => {
    expect(stream(['hunter2'], ['a hu', 'nte', 'r2 b']).text).toBe('a *** b');
  });

  it('emits everything that cannot be the start of a secret right away', () => {
    const { pushed } = stream(['hunter2'], ['first line\n', 'second hun', 'ter2 third\n']);
    expect(pushed).toEqual(['first line\n', 'second ', '*** third\n']);
  });

  it('holds back at most the longest secret minus one character', () => {
    const masker = new SecretMasker(['abcdefgh']);
    expect(masker.push('xxxxabcdefg')).toBe('xxxx');
    expect(masker.push('x')).toBe('abcdefgx');
  });

  it('masks a secret as soon as it is complete', () => {
    const masker = new SecretMasker(['hunter2']);
    expect(masker.push('ends with hunter')).toBe('ends with ');
    expect(masker.push('2')).toBe(MASK);
    expect(masker.flush()).toBe('');
  });

  it('masks a secret held at the very end when the stream is flushed', () => {
    // `hunter2` could still grow into `hunter2-long`, so it is held until the stream ends.
    const masker = new SecretMasker(['hunter2', 'hunter2-long']);
    expect(masker.push('ends with hunter2')).toBe('ends with ');
    expect(masker.flush()).toBe(MASK);
  });

  it('gives back a held prefix unmasked when the stream ends without the rest of the secret', () => {
    const masker = new SecretMasker(['hunter2']);
    expect(masker.push('a hunt')).toBe('a ');
    expect(masker.flush()).toBe('hunt');
  });

  it('masks overlapping secrets split across chunks', () => {
    expect(stream(['abc', 'bcd'], ['xa', 'b', 'cdx']).text).toBe(`x${MASK}x`);
  });

  it('waits for a longer secret that shares its start with a shorter one', () => {
    expect(stream(['abc', 'abcdef'], ['xabc', 'def!']).text).toBe(`x${MASK}!`);
    expect(stream(['abc', 'abcdef'], ['xabc', 'dz']).text).toBe(`x${MASK}dz`);
  });

  it('writes one mask for a masked run that continues into the next chunk', () => {
    expect(stream(['hunter2'], ['hunter2hun', 'ter2.']).text).toBe(`${MASK}.`);
  });

  it('does not mask a character that only a later occurrence inside the held tail covers', () => {
    expect(stream(['xyzq', 'yz'], ['xyz', 'a']).text).toBe(`x${MASK}a`);
  });

  it('masks multi-byte secrets split between chunks', () => {
    expect(stream(['пароль🔑42'], ['key пар', 'оль🔑', '42 ok']).text).toBe('key *** ok');
  });

  it('passes chunks through untouched when there are no secrets', () => {
    const masker = new SecretMasker([]);
    expect(masker.push('hello ')).toBe('hello ');
    expect(masker.flush()).toBe('');
  });
});
