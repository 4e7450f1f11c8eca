/**
 * Runbook parameters: checking the values a person, a job or an alert supplies against the runbook's
 * `params` specs, and turning the checked values into the environment variables steps read.
 * The API and the UI form both use this, so a value is judged the same way everywhere.
 */
import { MASK, MIN_SECRET_LENGTH } from '../executor/mask';
import type { ParamSpec } from './schema';

export type ParamValue = string | number | boolean;

export interface FieldError {
  field: string;
  message: string;
}

export type ParamCheck = { ok: true; value: ParamValue } | { ok: false; message: string };

/**
 * Environment variables a parameter must never set: the shell and the dynamic loader read them
 * (PATH, IFS, LD_PRELOAD...) and the executor owns BATON_* and STEP_*. A parameter named like one of
 * these would let whoever fills in the form change what the step's commands do.
 */
const RESERVED_ENV_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'PWD',
  'OLDPWD',
  'IFS',
  'ENV',
  'BASH_ENV',
  'CDPATH',
  'PS1',
  'PS2',
  'PS4',
  'TMPDIR',
  'TERM',
  'LANG',
  'LANGUAGE',
  'TZ',
  'HOSTNAME',
]);
const RESERVED_ENV_PREFIXES = ['BATON_', 'STEP_', 'LD_', 'DYLD_', 'BASH_FUNC_', 'LC_'];
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SHOWN_VALUE_MAX = 60;

/** The environment variable a parameter arrives in: `drain_seconds` -> `DRAIN_SECONDS` (and `-` becomes `_`, which shells require). */
export function paramEnvName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** Why a parameter name cannot become an environment variable, or null when it can. */
export function envNameProblem(name: string): string | null {
  const envName = paramEnvName(name);
  if (!ENV_NAME.test(envName)) return `the environment variable ${envName} is not a valid name; start the parameter name with a letter`;
  const isReserved = RESERVED_ENV_NAMES.has(envName) || RESERVED_ENV_PREFIXES.some((prefix) => envName.startsWith(prefix));
  if (isReserved) return `would set the reserved environment variable ${envName}; choose another name`;
  return null;
}

/**
 * Checks supplied values against the specs, applies defaults and converts form text ("10", "true")
 * to the declared type. Collects every problem so a form can mark all bad fields at once.
 * `undefined` input means "no parameters given", so defaults alone may satisfy the specs.
 */
export function validateParams(
  specs: Record<string, ParamSpec> | undefined,
  input: unknown,
): { ok: true; values: Record<string, ParamValue> } | { ok: false; errors: FieldError[] } {
  const given = input === undefined ? {} : input;
  if (!isPlainObject(given)) {
    return {
      ok: false,
      errors: [{ field: 'params', message: `must be an object of parameter names to values (got ${describeParamValue(given)})` }],
    };
  }
  const knownSpecs = specs ?? {};
  const errors: FieldError[] = [];
  const values: Record<string, ParamValue> = {};

  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(knownSpecs, name)) errors.push({ field: `params.${name}`, message: `unknown parameter "${name}"` });
  }
  for (const [name, spec] of Object.entries(knownSpecs)) {
    // Own properties only: a parameter named "constructor" must not pick up Object.prototype.constructor.
    const raw = Object.hasOwn(given, name) ? given[name] : undefined;
    if (isNotGiven(spec, raw)) {
      // A secret parameter backed by a stored secret is filled in by the portal, which holds the store.
      if (spec.type === 'secret' && spec.secret !== undefined) continue;
      if (spec.type !== 'secret' && spec.default !== undefined) values[name] = spec.default;
      else if (spec.required) errors.push({ field: `params.${name}`, message: 'is required' });
      continue;
    }
    const check = checkParamValue(spec, raw);
    if (check.ok) values[name] = check.value;
    else errors.push({ field: `params.${name}`, message: check.message });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values };
}

/**
 * One value against one spec: converted to the spec's type when it is acceptable, otherwise the reason.
 * The loader uses it too, to make sure a runbook's own defaults pass its specs.
 */
export function checkParamValue(spec: ParamSpec, raw: unknown): ParamCheck {
  switch (spec.type) {
    case 'string':
      return checkString(spec, raw);
    case 'integer':
      return checkRange(spec, toInteger(raw));
    case 'number':
      return checkRange(spec, toNumber(raw));
    case 'boolean':
      return toBoolean(raw);
    case 'enum':
      if (typeof raw === 'string' && spec.values.includes(raw)) return { ok: true, value: raw };
      return fail(`must be one of ${spec.values.join(', ')} (got ${describeParamValue(raw)})`);
    case 'secret':
      return checkSecret(raw);
  }
}

/** The parameter values as they may be stored and shown: secret parameters as `***`. */
export function redactParams(specs: Record<string, ParamSpec> | undefined, values: Record<string, ParamValue>): Record<string, ParamValue> {
  const redacted: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(values)) redacted[name] = specs?.[name]?.type === 'secret' ? MASK : value;
  return redacted;
}

/** Environment variables for the checked values: names upper-cased, booleans as "true"/"false". */
export function paramsToEnv(values: Record<string, ParamValue>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) env[paramEnvName(name)] = String(value);
  return env;
}

// A form sends "" for an untouched number field and JSON clients send null; both mean "not given".
// An empty string stays a value for string parameters, where it may be meaningful (and may fail the pattern).
function isNotGiven(spec: ParamSpec, raw: unknown): boolean {
  if (raw === undefined || raw === null) return true;
  return raw === '' && spec.type !== 'string';
}

function checkString(spec: Extract<ParamSpec, { type: 'string' }>, raw: unknown): ParamCheck {
  if (typeof raw !== 'string') return fail(`must be a string (got ${describeParamValue(raw)})`);
  // Environment variables cannot carry NUL; refusing it here beats a failure at spawn time.
  if (raw.includes('\0')) return fail('must not contain NUL characters');
  if (spec.minLength !== undefined && raw.length < spec.minLength) {
    return fail(`must be at least ${spec.minLength} characters long (got ${raw.length})`);
  }
  if (spec.maxLength !== undefined && raw.length > spec.maxLength) {
    return fail(`must be at most ${spec.maxLength} characters long (got ${raw.length})`);
  }
  if (spec.pattern !== undefined) {
    const pattern = compilePattern(spec.pattern);
    if (!pattern) return fail(`cannot be checked: the runbook's pattern ${spec.pattern} is not a valid regular expression`);
    // Used as written: an author who wants the whole value to match anchors it with ^...$.
    if (!pattern.test(raw)) return fail(`must match ${spec.pattern} (got ${describeParamValue(raw)})`);
  }
  return { ok: true, value: raw };
}

// Messages about a secret value never show it, not even a part: only its kind and length.
function checkSecret(raw: unknown): ParamCheck {
  if (typeof raw !== 'string') return fail(`must be a string (got ${describeKind(raw)})`);
  if (raw.includes('\0')) return fail('must not contain NUL characters');
  if (raw.length < MIN_SECRET_LENGTH) {
    return fail(`must be at least ${MIN_SECRET_LENGTH} characters long, so that masking it keeps logs readable (got ${raw.length})`);
  }
  return { ok: true, value: raw };
}

function toInteger(raw: unknown): ParamCheck {
  const notInteger = fail(`must be a whole number (got ${describeParamValue(raw)})`);
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? { ok: true, value: raw } : notInteger;
  if (typeof raw !== 'string' || !INTEGER_TEXT.test(raw.trim())) return notInteger;
  const value = Number(raw.trim());
  return Number.isSafeInteger(value) ? { ok: true, value } : notInteger;
}

function toNumber(raw: unknown): ParamCheck {
  const notNumber = fail(`must be a number (got ${describeParamValue(raw)})`);
  if (typeof raw === 'number') return Number.isFinite(raw) ? { ok: true, value: raw } : notNumber;
  if (typeof raw !== 'string' || !NUMBER_TEXT.test(raw.trim())) return notNumber;
  const value = Number(raw.trim());
  return Number.isFinite(value) ? { ok: true, value } : notNumber;
}

function toBoolean(raw: unknown): ParamCheck {
  if (raw === true || raw === 'true') return { ok: true, value: true };
  if (raw === false || raw === 'false') return { ok: true, value: false };
  return fail(`must be true or false (got ${describeParamValue(raw)})`);
}

function checkRange(spec: { min?: number; max?: number }, converted: ParamCheck): ParamCheck {
  if (!converted.ok) return converted;
  const value = converted.value as number;
  if (spec.min !== undefined && value < spec.min) return fail(`must be at least ${spec.min} (got ${value})`);
  if (spec.max !== undefined && value > spec.max) return fail(`must be at most ${spec.max} (got ${value})`);
  return converted;
}

/** The compiled pattern, or null when it is not a valid regular expression. */
function compilePattern(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern);
  } catch {
    return null;
  }
}

/** A value as a person would recognise it in a message: strings quoted and shortened, containers named. */
export function describeParamValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const shown = value.length > SHOWN_VALUE_MAX ? `${value.slice(0, SHOWN_VALUE_MAX)}...` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

/** What kind of value this is, without showing any of it. */
function describeKind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'true or false';
  return 'an object';
}

function fail(message: string): ParamCheck {
  return { ok: false, message };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
