import { envNameProblem, paramsToEnv, redactParams, validateParams } from './params';
import type { ParamSpec } from './schema';

// The parameters of the DESIGN.md example runbook.
const restartParams: Record<string, ParamSpec> = {
  drain_seconds: { type: 'integer', default: 10, min: 0, max: 300 },
  reason: { type: 'string', required: true, pattern: '^.{5,200}$' },
  channel: { type: 'enum', values: ['stable', 'canary'], default: 'stable' },
};

function errorsOf(specs: Record<string, ParamSpec> | undefined, input: unknown) {
  const result = validateParams(specs, input);
  if (result.ok) throw new Error(`expected errors, got values ${JSON.stringify(result.values)}`);
  return result.errors;
}

function valuesOf(specs: Record<string, ParamSpec> | undefined, input: unknown) {
  const result = validateParams(specs, input);
  if (!result.ok) throw new Error(`expected values, got errors ${JSON.stringify(result.errors)}`);
  return result.values;
}

describe('validateParams', () => {
  it('applies defaults for parameters not given', () => {
    expect(valuesOf(restartParams, { reason: 'kernel update' })).toEqual({ drain_seconds: 10, reason: 'kernel update', channel: 'stable' });
  });

  it('treats missing input as no parameters given', () => {
    expect(valuesOf({ name: { type: 'string', default: 'world' } }, undefined)).toEqual({ name: 'world' });
    expect(valuesOf(undefined, undefined)).toEqual({});
  });

  it('leaves out an optional parameter without default that was not given', () => {
    expect(valuesOf({ note: { type: 'string' } }, {})).toEqual({});
  });

  it.each([null, 'drain_seconds=5', 42, ['a'], new Date()])('refuses input that is not a plain object: %p', (input) => {
    expect(errorsOf(restartParams, input)).toEqual([
      { field: 'params', message: expect.stringContaining('must be an object of parameter names to values') },
    ]);
  });

  it('names an unknown parameter', () => {
    expect(errorsOf(restartParams, { reason: 'kernel update', foo: 1 })).toEqual([
      { field: 'params.foo', message: 'unknown parameter "foo"' },
    ]);
  });

  it('does not mistake inherited object properties for given values', () => {
    // `as const`: a property named "constructor" gets no contextual type from the annotation.
    const specs: Record<string, ParamSpec> = { constructor: { type: 'string' as const, required: true } };
    expect(errorsOf(specs, {})).toEqual([{ field: 'params.constructor', message: 'is required' }]);
  });

  it('reports a missing required parameter', () => {
    expect(errorsOf(restartParams, {})).toEqual([{ field: 'params.reason', message: 'is required' }]);
  });

  it('collects every error, not just the first', () => {
    expect(errorsOf(restartParams, { drain_seconds: 500, channel: 'beta', extra: true })).toEqual([
      { field: 'params.extra', message: 'unknown parameter "extra"' },
      { field: 'params.drain_seconds', message: 'must be at most 300 (got 500)' },
      { field: 'params.reason', message: 'is required' },
      { field: 'params.channel', message: 'must be one of stable, canary (got "beta")' },
    ]);
  });

  describe('integer', () => {
    const specs: Record<string, ParamSpec> = { drain_seconds: { type: 'integer', min: 0, max: 300 } };

    it('accepts a whole number and numeric text from a form', () => {
      expect(valuesOf(specs, { drain_seconds: 10 })).toEqual({ drain_seconds: 10 });
      expect(valuesOf(specs, { drain_seconds: '10' })).toEqual({ drain_seconds: 10 });
      expect(valuesOf(specs, { drain_seconds: ' 7 ' })).toEqual({ drain_seconds: 7 });
    });

    it.each([
      [1.5, 'must be a whole number (got 1.5)'],
      ['1.5', 'must be a whole number (got "1.5")'],
      ['abc', 'must be a whole number (got "abc")'],
      ['10abc', 'must be a whole number (got "10abc")'],
      [true, 'must be a whole number (got true)'],
      [500, 'must be at most 300 (got 500)'],
      ['-1', 'must be at least 0 (got -1)'],
    ])('refuses %p', (given, message) => {
      expect(errorsOf(specs, { drain_seconds: given })).toEqual([{ field: 'params.drain_seconds', message }]);
    });

    it('treats an empty form field as not given, so the default applies', () => {
      expect(valuesOf({ n: { type: 'integer', default: 3 } }, { n: '' })).toEqual({ n: 3 });
      expect(valuesOf({ n: { type: 'integer', default: 3 } }, { n: null })).toEqual({ n: 3 });
    });
  });

  describe('number', () => {
    const specs: Record<string, ParamSpec> = { ratio: { type: 'number', min: 0, max: 1 } };

    it('accepts fractions as numbers and as text', () => {
      expect(valuesOf(specs, { ratio: 0.25 })).toEqual({ ratio: 0.25 });
      expect(valuesOf(specs, { ratio: '.5' })).toEqual({ ratio: 0.5 });
    });

    it.each([
      ['abc', 'must be a number (got "abc")'],
      [Number.NaN, 'must be a number (got NaN)'],
      [Number.POSITIVE_INFINITY, 'must be a number (got Infinity)'],
      [1.5, 'must be at most 1 (got 1.5)'],
    ])('refuses %p', (given, message) => {
      expect(errorsOf(specs, { ratio: given })).toEqual([{ field: 'params.ratio', message }]);
    });
  });

  describe('boolean', () => {
    const specs: Record<string, ParamSpec> = { dry_run: { type: 'boolean', default: true } };

    it('accepts true/false and their text', () => {
      expect(valuesOf(specs, { dry_run: false })).toEqual({ dry_run: false });
      expect(valuesOf(specs, { dry_run: 'false' })).toEqual({ dry_run: false });
      expect(valuesOf(specs, { dry_run: 'true' })).toEqual({ dry_run: true });
    });

    it.each(['yes', 1, 'False'])('refuses %p', (given) => {
      expect(errorsOf(specs, { dry_run: given })[0].message).toMatch(/^must be true or false \(got /);
    });
  });

  describe('string', () => {
    it('applies the pattern as written, without adding anchors', () => {
      const unanchored: Record<string, ParamSpec> = { word: { type: 'string', pattern: '[a-z]' } };
      expect(valuesOf(unanchored, { word: 'ABCd' })).toEqual({ word: 'ABCd' });
      const anchored: Record<string, ParamSpec> = { word: { type: 'string', pattern: '^[a-z]+$' } };
      expect(errorsOf(anchored, { word: 'ABCd' })).toEqual([{ field: 'params.word', message: 'must match ^[a-z]+$ (got "ABCd")' }]);
    });

    it('checks minLength and maxLength', () => {
      const specs: Record<string, ParamSpec> = { code: { type: 'string', minLength: 2, maxLength: 4 } };
      expect(errorsOf(specs, { code: 'a' })).toEqual([{ field: 'params.code', message: 'must be at least 2 characters long (got 1)' }]);
      expect(errorsOf(specs, { code: 'abcde' })).toEqual([{ field: 'params.code', message: 'must be at most 4 characters long (got 5)' }]);
    });

    it('keeps an empty string as a value that the pattern judges', () => {
      expect(errorsOf(restartParams, { reason: '' })).toEqual([{ field: 'params.reason', message: 'must match ^.{5,200}$ (got "")' }]);
    });

    it('refuses a number for a string parameter', () => {
      expect(errorsOf({ name: { type: 'string' } }, { name: 5 })).toEqual([{ field: 'params.name', message: 'must be a string (got 5)' }]);
    });

    it('refuses NUL characters, which no environment variable can carry', () => {
      expect(errorsOf({ name: { type: 'string' } }, { name: 'a\0b' })).toEqual([
        { field: 'params.name', message: 'must not contain NUL characters' },
      ]);
    });

    it('shortens a long value in the message', () => {
      const [error] = errorsOf({ id: { type: 'string', pattern: '^\\d+$' } }, { id: 'x'.repeat(500) });
      expect(error.message).toBe(`must match ^\\d+$ (got "${'x'.repeat(60)}...")`);
    });
  });

  describe('enum', () => {
    it('accepts one of the values and refuses anything else', () => {
      expect(valuesOf(restartParams, { reason: 'kernel update', channel: 'canary' }).channel).toBe('canary');
      expect(errorsOf(restartParams, { reason: 'kernel update', channel: 1 })).toEqual([
        { field: 'params.channel', message: 'must be one of stable, canary (got 1)' },
      ]);
    });
  });
});

describe('paramsToEnv', () => {
  it('upper-cases names and turns every value into text', () => {
    expect(paramsToEnv({ drain_seconds: 10, dry_run: false, ratio: 0.5, channel: 'stable' })).toEqual({
      DRAIN_SECONDS: '10',
      DRY_RUN: 'false',
      RATIO: '0.5',
      CHANNEL: 'stable',
    });
  });

  it('turns "-" into "_" so the shell can read the variable', () => {
    expect(paramsToEnv({ 'health-url': 'http://localhost/healthz' })).toEqual({ HEALTH_URL: 'http://localhost/healthz' });
  });
});

describe('envNameProblem', () => {
  it.each(['path', 'ifs', 'ld_preload', 'baton_output', 'step_x_y', 'home'])('refuses %s, which would change how steps run', (name) => {
    expect(envNameProblem(name)).toMatch(/reserved environment variable/);
  });

  it('refuses a name starting with a digit, which is no valid variable name', () => {
    expect(envNameProblem('9lives')).toMatch(/start the parameter name with a letter/);
  });

  it('accepts ordinary names', () => {
    expect(envNameProblem('target_path')).toBeNull();
  });
});

describe('secret parameters', () => {
  const specs: Record<string, ParamSpec> = {
    api_token: { type: 'secret', required: true },
    fallback: { type: 'secret', secret: 'demo-token' },
  };

  it('accepts a string value and leaves a parameter backed by a stored secret to the portal', () => {
    expect(valuesOf(specs, { api_token: 'hunter2-value' })).toEqual({ api_token: 'hunter2-value' });
  });

  it('never shows the value in an error message', () => {
    const errors = errorsOf(specs, { api_token: 'abc', fallback: 12345678 });
    expect(errors).toEqual([
      { field: 'params.api_token', message: expect.stringContaining('at least 4 characters') },
      { field: 'params.fallback', message: 'must be a string (got a number)' },
    ]);
    expect(JSON.stringify(errors)).not.toMatch(/abc|12345678/);
  });

  it('is required like any other parameter when no stored secret backs it', () => {
    expect(errorsOf(specs, {})).toEqual([{ field: 'params.api_token', message: 'is required' }]);
  });

  it('is redacted for storage and display', () => {
    expect(redactParams({ ...specs, n: { type: 'integer' } }, { api_token: 'hunter2-value', n: 3 })).toEqual({ api_token: '***', n: 3 });
  });
});
