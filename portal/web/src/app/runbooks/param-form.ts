/**
 * Turning a runbook's parameter specs into form fields and the form's text back into values.
 * The API validates every value again; this only saves the person a round trip for plain typos.
 */
import type { ParamSpec } from '@baton/shared';

export type FieldValue = string | boolean;

export interface ParamField {
  name: string;
  spec: ParamSpec;
  inputId: string;
  /** Id of the description shown under the field, for aria-describedby; null without a description. */
  hintId: string | null;
  /** Required with no default: the form must not be sent without it. */
  isRequired: boolean;
}

export function paramFields(params: Record<string, ParamSpec> | undefined): ParamField[] {
  return Object.entries(params ?? {}).map(([name, spec]) => ({
    name,
    spec,
    inputId: `param-${name}`,
    hintId: spec.description ? `param-${name}-hint` : null,
    isRequired: spec.required === true && spec.default === undefined,
  }));
}

/** What each field shows first: the spec's default, or empty. */
export function initialValues(fields: ParamField[]): Record<string, FieldValue> {
  const values: Record<string, FieldValue> = {};
  for (const { name, spec } of fields) {
    if (spec.type === 'boolean') values[name] = spec.default ?? false;
    else values[name] = spec.default === undefined ? '' : String(spec.default);
  }
  return values;
}

/** The `params` body: numbers as numbers, empty fields left out so the API applies defaults or reports them missing. */
export function paramsToSend(fields: ParamField[], values: Record<string, FieldValue>): Record<string, string | number | boolean> {
  const params: Record<string, string | number | boolean> = {};
  for (const { name, spec } of fields) {
    const value = values[name];
    if (typeof value === 'boolean') {
      params[name] = value;
      continue;
    }
    if (value === undefined || value === '') continue;
    const isNumeric = spec.type === 'integer' || spec.type === 'number';
    // A number that does not parse goes as typed, so the API's message names the bad value.
    params[name] = isNumeric && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  return params;
}
