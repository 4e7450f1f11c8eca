/**
 * Turning a runbook's parameter specs into form fields, the form's text back into the `params` body, and judging
 * that body with the shared `validateParams` — the very function the API runs — so a person sees every problem
 * before pressing Run, worded as the API would word it.
 */
import type { ParamSpec } from '@baton/shared';
// The rules alone (no zod schemas): the same functions the API runs.
import { validateParams } from '@baton/shared/params';

export type FieldValue = string | boolean;
export type ParamBody = Record<string, string | number | boolean>;

export interface ParamField {
  name: string;
  spec: ParamSpec;
  inputId: string;
  /** Id of the description shown under the field, for aria-describedby; null without a description. */
  hintId: string | null;
  errorId: string;
  /** The form must not be sent without it: required, with no default and no stored secret to fall back on. */
  isRequired: boolean;
}

export function paramFields(params: Record<string, ParamSpec> | undefined): ParamField[] {
  return Object.entries(params ?? {}).map(([name, spec]) => ({
    name,
    spec,
    inputId: `param-${name}`,
    hintId: spec.description ? `param-${name}-hint` : null,
    errorId: `param-${name}-error`,
    isRequired: spec.required === true && defaultOf(spec) === undefined && !(spec.type === 'secret' && spec.secret !== undefined),
  }));
}

/** The spec's default; secrets never have one in clear. */
export function defaultOf(spec: ParamSpec): string | number | boolean | undefined {
  return spec.type === 'secret' ? undefined : spec.default;
}

/** What each field shows first: the spec's default, or empty. */
export function initialValues(fields: ParamField[]): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (const { name, spec } of fields) {
    const value = defaultOf(spec);
    if (spec.type === 'boolean') values[name] = value === true;
    else values[name] = value === undefined ? '' : String(value);
  }
  return values;
}

/** The `params` body: numbers as numbers, empty fields left out so the API applies defaults or reports them missing. */
export function paramsToSend(fields: ParamField[], values: Record<string, FieldValue>): ParamBody {
  const params: ParamBody = {};
  for (const { name, spec } of fields) {
    const value = values[name];
    if (typeof value === 'boolean') {
      params[name] = value;
      continue;
    }
    if (value === undefined || value === '') continue;
    const isNumeric = spec.type === 'integer' || spec.type === 'number';
    // A number that does not parse goes as typed, so the message names the bad value.
    params[name] = isNumeric && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return params;
}

/** Each field's problem, as the API would report it (`{ name: 'must match ^...$ (got "x!")' }`); empty when the form may be sent. */
export function fieldErrors(fields: ParamField[], values: Record<string, FieldValue>): Record<string, string> {
  const specs = Object.fromEntries(fields.map((f) => [f.name, f.spec]));
  const result = validateParams(specs, paramsToSend(fields, values));
  if (result.ok) return {};
  const errors: Record<string, string> = {};
  for (const { field, message } of result.errors) errors[field.replace(/^params\./, '')] = message;
  return errors;
}
