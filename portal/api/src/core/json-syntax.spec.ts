import fc from 'fast-check';
import { locateJsonSyntaxError } from './json-syntax';

const isValidJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('locating a JSON syntax error', () => {
  it('names the position, line and column of the first offending character', () => {
    expect(locateJsonSyntaxError('{"a":}')).toEqual({ position: 5, line: 1, column: 6, reason: "unexpected character '}'" });
    expect(locateJsonSyntaxError('{\n  "a": 1,\n}')).toEqual({
      position: 12,
      line: 3,
      column: 1,
      reason: 'expected a property name in double quotes',
    });
    expect(locateJsonSyntaxError('{"a" 1}')).toMatchObject({ position: 5, reason: "expected ':' after the property name" });
    expect(locateJsonSyntaxError('[1,2')).toMatchObject({ position: 4, reason: 'unexpected end of input' });
    expect(locateJsonSyntaxError('{"a":"\\x"}')).toMatchObject({ position: 6, reason: 'bad escape sequence in string' });
    expect(locateJsonSyntaxError('{"a":tru}')).toMatchObject({ position: 5 });
    expect(locateJsonSyntaxError('{"a":1}x')).toMatchObject({ position: 7, reason: 'unexpected content after the end of the JSON value' });
    expect(locateJsonSyntaxError('{"a":"\u0001"}')).toMatchObject({ position: 6, reason: 'control character in string (escape it)' });
  });

  it('refuses a bare value where a request body must be an object or an array', () => {
    expect(locateJsonSyntaxError('  "text"')).toMatchObject({ position: 2, reason: 'expected an object or an array' });
    expect(locateJsonSyntaxError('"text"', false)).toBeUndefined();
    expect(locateJsonSyntaxError('   ')).toMatchObject({ position: 3, reason: 'empty body' });
  });

  it('copes with nesting far deeper than the call stack', () => {
    expect(locateJsonSyntaxError('['.repeat(1_000_000) + ']'.repeat(1_000_000))).toBeUndefined();
    expect(locateJsonSyntaxError('['.repeat(1_000_000))).toMatchObject({ position: 1_000_000, reason: 'unexpected end of input' });
  });

  it('agrees with JSON.parse on valid JSON', () => {
    fc.assert(fc.property(fc.json(), (text) => locateJsonSyntaxError(text, false) === undefined));
  });

  it('agrees with JSON.parse on damaged JSON, and points inside the text', () => {
    const damaged = fc.tuple(fc.json(), fc.nat(), fc.nat(4), fc.string({ maxLength: 3 })).map(([text, at, cut, insert]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + cut);
    });
    fc.assert(
      fc.property(damaged, (text) => {
        const found = locateJsonSyntaxError(text, false);
        expect(found === undefined).toBe(isValidJson(text));
        if (found) expect(found.position).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 2000 },
    );
  });
});
