import { validateParams, type ParamSpec } from '@baton/shared';
import { fieldErrors, initialValues, paramFields, paramsToSend } from './param-form';

const SPECS: Record<string, ParamSpec> = {
  drain_seconds: { type: 'integer', default: 10, min: 0, max: 300 },
  reason: { type: 'string', required: true, pattern: '^.{5,200}$' },
  channel: { type: 'enum', values: ['stable', 'canary'], default: 'stable' },
  ratio: { type: 'number', min: 0, max: 1 },
  dry_run: { type: 'boolean', default: true },
  password: { type: 'secret', required: true },
  api_key: { type: 'secret', secret: 'stored-key', required: true },
};

const fields = paramFields(SPECS);

describe('parameter form', () => {
  it('starts every field at its default; secrets and fields without a default start empty', () => {
    expect(initialValues(fields)).toEqual({
      drain_seconds: '10',
      reason: '',
      channel: 'stable',
      ratio: '',
      dry_run: true,
      password: '',
      api_key: '',
    });
  });

  it('marks as required only what has no default and no stored secret behind it', () => {
    expect(fields.filter((f) => f.isRequired).map((f) => f.name)).toEqual(['reason', 'password']);
  });

  it('sends numbers as numbers and leaves empty fields out', () => {
    const values = { ...initialValues(fields), reason: 'patch day', ratio: '0.5' };
    expect(paramsToSend(fields, values)).toEqual({ drain_seconds: 10, reason: 'patch day', channel: 'stable', ratio: 0.5, dry_run: true });
  });

  it('reports missing required fields before the form is sent', () => {
    expect(fieldErrors(fields, initialValues(fields))).toEqual({ reason: 'is required', password: 'is required' });
  });

  it('checks min, max, whole numbers and patterns with the API’s words', () => {
    const values = { ...initialValues(fields), drain_seconds: '301', reason: 'abc', ratio: '1.5', password: 'abc' };
    const errors = fieldErrors(fields, values);
    expect(errors['drain_seconds']).toBe('must be at most 300 (got 301)');
    expect(errors['reason']).toBe('must match ^.{5,200}$ (got "abc")');
    expect(errors['ratio']).toBe('must be at most 1 (got 1.5)');
    expect(errors['password']).toMatch(/^must be at least 4 characters long/);
    expect(fieldErrors(fields, { ...values, drain_seconds: '2.5' })['drain_seconds']).toBe('must be a whole number (got 2.5)');
    expect(fieldErrors(fields, { ...values, drain_seconds: '-1' })['drain_seconds']).toBe('must be at least 0 (got -1)');
  });

  it('accepts a valid form, and the API judges the very same body the same way', () => {
    const values = { ...initialValues(fields), reason: 'kernel update', password: 'hunter22', drain_seconds: '0' };
    expect(fieldErrors(fields, values)).toEqual({});
    expect(validateParams(SPECS, paramsToSend(fields, values)).ok).toBe(true);
  });

  it('agrees with the API on every field it rejects', () => {
    const values = { ...initialValues(fields), drain_seconds: 'ten', reason: 'x', ratio: '-0.1' };
    const api = validateParams(SPECS, paramsToSend(fields, values));
    expect(api.ok).toBe(false);
    const apiFields = api.ok ? [] : api.errors.map((e) => e.field.replace('params.', ''));
    expect(Object.keys(fieldErrors(fields, values)).sort()).toEqual(apiFields.sort());
  });
});
