/**
 * Loading declarative resources from YAML text (one file, any number of `---` separated documents).
 * Owns the promise made to authors: every load error names the file, the line, the column and the problem,
 * whether it is bad YAML, a field the schema refuses, or a runbook that is well-formed but makes no sense
 * (a cycle in `needs`, a default that fails its own parameter spec, ...).
 * Pure text in, data out: the portal reads the files, the UI's editor calls this on the text being edited.
 */
import { isMap, isNode, isScalar, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { parseMatcher, templateProblems } from '../alerts/alert-rule';
import { findCycle } from './dag';
import { checkParamValue, describeParamValue, envNameProblem, paramEnvName } from './params';
import {
  resourceSchema,
  type AlertRule,
  type NodeResource,
  type Notifier,
  type ParamSpec,
  type Pool,
  type Resource,
  type Runbook,
  type SshNodeSpec,
  type Step,
} from './schema';

export interface LoadError {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  message: string;
}

type DataPath = readonly PropertyKey[];

/**
 * A problem found in one document, located by its path in the data (the same path zod reports).
 * Positions are looked up only at the end, so checks stay plain functions over plain data.
 * `at: 'key'` points at the key itself, for problems with the name rather than the value.
 */
export interface Problem {
  path: DataPath;
  message: string;
  at?: 'key';
}

const KNOWN_KINDS: string[] = resourceSchema.options.flatMap((option) => [...option.shape.kind.values]);
const STEP_LISTS = ['steps', 'onFailure'] as const;
type StepList = (typeof STEP_LISTS)[number];

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/**
 * Every valid resource in the text, and every problem with the others.
 * A document with any error is left out entirely: half a runbook must never run.
 */
export function parseResources(text: string, file: string): { resources: Resource[]; errors: LoadError[] } {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const toLoadError = (offset: number, message: string): LoadError => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line: Math.max(line, 1), column: Math.max(col, 1), message };
  };

  const resources: Resource[] = [];
  const errors: LoadError[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) {
      errors.push(...document.errors.map((error) => toLoadError(error.pos[0], error.message)));
      continue;
    }
    if (isEmptyDocument(document)) continue;
    const result = checkDocument(document);
    if ('resource' in result) resources.push(result.resource);
    else errors.push(...result.problems.map((problem) => toLoadError(offsetOf(document, problem), problem.message)));
  }
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { resources, errors };
}

// A trailing `---` or a file of comments yields documents without content; they are not mistakes.
function isEmptyDocument(document: Document.Parsed): boolean {
  const contents = document.contents;
  return contents === null || (isScalar(contents) && contents.value === null);
}

function checkDocument(document: Document.Parsed): { resource: Resource } | { problems: Problem[] } {
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    // toJS refuses e.g. alias bombs; the document cannot be used, say why.
    return { problems: [{ path: [], message: error instanceof Error ? error.message : String(error) }] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { problems: [{ path: [], message: `a resource must be a mapping with apiVersion, kind and id (got ${describeData(data)})` }] };
  }
  const kindProblem = checkKind(data as Record<string, unknown>);
  if (kindProblem) return { problems: [kindProblem] };

  const parsed = resourceSchema.safeParse(data);
  if (!parsed.success) return { problems: parsed.error.issues.flatMap((issue) => issueToProblems(issue, data)) };
  const problems = semanticProblems(parsed.data);
  return problems.length > 0 ? { problems } : { resource: parsed.data };
}

// Checked before the schema so an unknown kind gets one clear message instead of zod's union noise.
function checkKind(data: Record<string, unknown>): Problem | null {
  const known = KNOWN_KINDS.join(', ');
  if (!Object.hasOwn(data, 'kind')) return { path: [], message: `missing required field "kind" (known kinds: ${known})` };
  const kind = data.kind;
  if (typeof kind === 'string' && KNOWN_KINDS.includes(kind)) return null;
  return { path: ['kind'], message: `kind: unknown kind ${describeData(kind)}; known kinds: ${known}` };
}

// A switch rather than a lookup table so that adding a kind to the schema fails to compile until it is handled here.
function semanticProblems(resource: Resource): Problem[] {
  switch (resource.kind) {
    case 'Runbook':
      return checkRunbook(resource);
    case 'AlertRule':
      return checkAlertRule(resource);
    // Everything a job's fields can get wrong on their own is in the schema; its parameters are checked against
    // its runbook by the portal, which knows the runbook.
    case 'Job':
      return [];
    case 'Pool':
      return poolProblems(resource);
    case 'Node':
      return checkSshNode(resource);
    case 'Notifier':
      return notifierProblems(resource);
  }
}

/** The cross-field rules of an SSH node (the API applies the same ones). */
export function sshNodeProblems(node: Pick<SshNodeSpec, 'name' | 'keySecret' | 'passwordSecret' | 'jumpHost'>): Problem[] {
  const problems: Problem[] = [];
  if (node.keySecret === undefined && node.passwordSecret === undefined) {
    problems.push({ path: [], message: 'an SSH node needs "keySecret" (a stored private key) or "passwordSecret"' });
  }
  if (node.jumpHost !== undefined && node.jumpHost === node.name) {
    problems.push({ path: ['jumpHost'], message: 'jumpHost: a node cannot be its own jump host' });
  }
  if (node.name === 'local') problems.push({ path: ['name'], message: 'name: "local" is reserved for the portal\'s own host' });
  return problems;
}

function checkSshNode(node: NodeResource): Problem[] {
  return sshNodeProblems(node);
}

// ---------------------------------------------------------------------------------------------
// Schema errors: zod issues rewritten as messages about the YAML the author wrote.

function issueToProblems(issue: z.core.$ZodIssue, data: unknown): Problem[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], at: 'key', message: withPath(path, `unknown field "${key}"`) }));
  }
  if (issue.code === 'invalid_key') {
    const name = String(path[path.length - 1]);
    const reason = issue.issues.map((inner) => describeIssue(inner, name)).join('; ');
    return [{ path, at: 'key', message: withPath(path.slice(0, -1), `invalid name: ${reason}`) }];
  }
  const found = valueAt(data, path);
  if (!found.exists && path.length > 0) {
    return [{ path, message: withPath(path.slice(0, -1), `missing required field "${String(path[path.length - 1])}"`) }];
  }
  return [{ path, message: withPath(path, describeIssue(issue, found.value)) }];
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  const got = `(got ${describeData(value)})`;
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected} ${got}`;
    case 'invalid_value':
      if (issue.values.length === 1) return `must be ${JSON.stringify(issue.values[0])} ${got}`;
      return `must be one of ${issue.values.join(', ')} ${got}`;
    case 'invalid_union':
      if ('options' in issue && issue.options) return `must be one of ${issue.options.join(', ')} ${got}`;
      return issue.message;
    case 'too_small':
      return describeBound('at least', issue.origin, Number(issue.minimum), issue.inclusive !== false, value);
    case 'too_big':
      return describeBound('at most', issue.origin, Number(issue.maximum), issue.inclusive !== false, value);
    case 'invalid_format':
      if (issue.format === 'url') return `must be a URL such as https://chat.example/hook ${got}`;
      // zod's own wording for a bare regex is "Invalid string: ..."; our schema's messages already read well.
      if (issue.format === 'regex' && issue.message.startsWith('Invalid')) return `must match ${issue.pattern} ${got}`;
      return `${issue.message} ${got}`;
    case 'custom':
      return `${issue.message} ${got}`;
    default:
      return issue.message;
  }
}

function describeBound(bound: 'at least' | 'at most', origin: string, limit: number, isInclusive: boolean, value: unknown): string {
  if (origin === 'array') return limit === 1 && bound === 'at least' ? 'must not be empty' : `must have ${bound} ${limit} items`;
  if (origin === 'string') return limit === 1 && bound === 'at least' ? 'must not be empty' : `must be ${bound} ${limit} characters long`;
  if (isInclusive) return `must be ${bound} ${limit} (got ${describeData(value)})`;
  return `must be ${bound === 'at least' ? 'greater' : 'less'} than ${limit} (got ${describeData(value)})`;
}

function valueAt(data: unknown, path: DataPath): { exists: boolean; value?: unknown } {
  let current = data;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return { exists: false };
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return { exists: true, value: current };
}

// ---------------------------------------------------------------------------------------------
// Runbook checks: what the schema cannot express because it involves several fields at once.

function checkRunbook(runbook: Runbook): Problem[] {
  return [...checkParams(runbook.params ?? {}), ...checkTargets(runbook), ...checkSteps(runbook)];
}

function checkParams(params: Record<string, ParamSpec>): Problem[] {
  const problems: Problem[] = [];
  const paramByEnvName = new Map<string, string>();
  for (const [name, spec] of Object.entries(params)) {
    const path = ['params', name];
    const envProblem = envNameProblem(name);
    if (envProblem) problems.push({ path, at: 'key', message: `params.${name}: ${envProblem}` });
    const envName = paramEnvName(name);
    const earlier = paramByEnvName.get(envName);
    if (earlier)
      problems.push({
        path,
        at: 'key',
        message: `params.${name}: "${earlier}" and "${name}" would both set the environment variable ${envName}`,
      });
    else paramByEnvName.set(envName, name);
    problems.push(...checkParamSpec(name, spec));
  }
  return problems;
}

function checkParamSpec(name: string, spec: ParamSpec): Problem[] {
  const path = ['params', name];
  const at = (field: string, message: string): Problem => ({ path: [...path, field], message: `params.${name}.${field}: ${message}` });
  if (spec.type === 'string' && spec.pattern !== undefined) {
    const regexError = regexProblem(spec.pattern);
    // An unusable pattern makes the default check meaningless; report only the cause.
    if (regexError) return [at('pattern', `not a valid regular expression: ${regexError}`)];
  }
  const problems: Problem[] = [];
  if (spec.type === 'string' && spec.minLength !== undefined && spec.maxLength !== undefined && spec.minLength > spec.maxLength) {
    problems.push(at('minLength', `${spec.minLength} is greater than maxLength ${spec.maxLength}`));
  }
  if ((spec.type === 'integer' || spec.type === 'number') && spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
    problems.push(at('min', `${spec.min} is greater than max ${spec.max}`));
  }
  if (spec.type !== 'secret' && spec.default !== undefined) {
    const check = checkParamValue(spec, spec.default);
    if (!check.ok) problems.push(at('default', check.message));
  }
  return problems;
}

function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern);
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // V8 repeats the pattern ("Invalid regular expression: /([/: Unterminated ..."); the field already shows it.
    return message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
  }
}

function checkTargets(runbook: Runbook): Problem[] {
  const targets = runbook.targets;
  if (targets?.local !== true || (targets.names === undefined && targets.labels === undefined)) return [];
  return [
    {
      path: ['targets', 'local'],
      message: 'targets.local: "local: true" means the portal\'s own host and cannot be combined with "names" or "labels"',
    },
  ];
}

function checkSteps(runbook: Runbook): Problem[] {
  const problems: Problem[] = [];
  // Ids are unique across both lists: outputs (STEP_<ID>_<KEY>) and the execution record name steps by id alone.
  const firstUseOfId = new Map<string, string>();
  for (const list of STEP_LISTS) {
    (runbook[list] ?? []).forEach((step, index) => {
      const path = [list, index];
      const firstUse = firstUseOfId.get(step.id);
      if (firstUse)
        problems.push({
          path: [...path, 'id'],
          message: `${formatPath(path)}.id: duplicate step id "${step.id}" (already used by ${firstUse})`,
        });
      else firstUseOfId.set(step.id, formatPath(path));
      problems.push(...checkStepAction(step, path));
    });
  }
  for (const list of STEP_LISTS) problems.push(...checkNeeds(runbook, list));
  return problems;
}

// A step does exactly one thing: a command on the nodes (`run`) or an HTTP call from the portal (`http` + `on: portal`).
function checkStepAction(step: Step, path: DataPath): Problem[] {
  const where = formatPath(path);
  const hasRun = step.run !== undefined;
  const hasHttp = step.http !== undefined;
  if (hasRun && hasHttp) return [{ path, message: `${where}: a step has either "run" or "http", not both` }];
  if (!hasRun && !hasHttp)
    return [{ path, message: `${where}: a step needs "run" (a command for the nodes) or "http" (a call made by the portal)` }];
  if (hasHttp && step.on !== 'portal') {
    return [{ path: [...path, 'http'], message: `${where}.http: only steps with "on: portal" make HTTP calls; add "on: portal"` }];
  }
  if (step.on === 'portal' && !hasHttp) {
    return [
      {
        path: [...path, 'on'],
        message: `${where}.on: the portal runs no commands, so a step with "on: portal" needs "http" instead of "run"`,
      },
    ];
  }
  return [];
}

// `needs` stays within one list: the main steps and the onFailure steps are two separate graphs.
function checkNeeds(runbook: Runbook, list: StepList): Problem[] {
  const steps = runbook[list] ?? [];
  const otherList: StepList = list === 'steps' ? 'onFailure' : 'steps';
  const ownIds = steps.map((step) => step.id);
  const otherIds = new Set((runbook[otherList] ?? []).map((step) => step.id));
  const problems: Problem[] = [];

  steps.forEach((step, index) => {
    (step.needs ?? []).forEach((need, needIndex) => {
      if (ownIds.includes(need)) return;
      const path = [list, index, 'needs', needIndex];
      const reason = otherIds.has(need)
        ? `"${need}" is in ${otherList}; a step can only need steps of its own list (${list})`
        : `unknown step "${need}" (known: ${[...new Set(ownIds)].join(', ')})`;
      problems.push({ path, message: `${formatPath(path)}: ${reason}` });
    });
  });

  const cycle = findCycle(steps);
  if (cycle) {
    const path = [list, ownIds.indexOf(cycle[0]), 'needs'];
    problems.push({ path, message: `${formatPath(path)}: cycle in needs: ${cycle.join(' -> ')}` });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Alert rule checks: regular expressions that compile and placeholders the renderer knows.

/** Problems the schema cannot see in an alert rule; exported for the API, which checks rules the same way. */
export function alertRuleProblems(rule: AlertRule): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  for (const [label, expected] of Object.entries(rule.match)) {
    const matcher = parseMatcher(expected);
    if ('error' in matcher) problems.push({ path: ['match', label], message: `match.${label}: ${matcher.error}` });
  }
  const checkParams = (prefix: string[], params: Record<string, unknown> | undefined) => {
    for (const [name, value] of Object.entries(params ?? {})) {
      if (typeof value !== 'string') continue;
      const path = [...prefix, 'params', name];
      for (const problem of templateProblems(value)) problems.push({ path, message: `${formatPath(path)}: ${problem}` });
    }
  };
  if ((rule.runbook === undefined) === (rule.action === undefined)) {
    problems.push({ path: ['runbook'], message: 'runbook: a rule starts either a "runbook" or a pool "action"; give exactly one' });
  }
  if (rule.action !== undefined && (rule.params !== undefined || rule.targets !== undefined)) {
    const field = rule.params !== undefined ? 'params' : 'targets';
    problems.push({ path: [field], message: `${field}: only a rule that starts a runbook has ${field}; a pool action takes none` });
  }
  checkParams([], rule.params);
  if (rule.onResolved && 'runbook' in rule.onResolved) checkParams(['onResolved'], rule.onResolved.params);
  const targets = rule.targets;
  if (targets?.fromLabel !== undefined && (targets.names !== undefined || targets.labels !== undefined || targets.local !== undefined)) {
    problems.push({ path: ['targets', 'fromLabel'], message: 'targets.fromLabel: cannot be combined with names, labels or local' });
  }
  return problems;
}

function checkAlertRule(rule: AlertRule): Problem[] {
  return alertRuleProblems(rule);
}

// ---------------------------------------------------------------------------------------------
// Pool checks: bounds that make sense.

/** Problems the schema cannot see in a pool; exported for the API, which checks pools the same way. */
export function poolProblems(pool: Pool): { path: (string | number)[]; message: string }[] {
  if (pool.min <= pool.max) return [];
  return [{ path: ['min'], message: `min: ${pool.min} is greater than max ${pool.max}` }];
}

// ---------------------------------------------------------------------------------------------
// Notifier checks: each type has the fields it needs and no others.

/** Problems the schema cannot see in a notifier; exported for the API, which checks notifiers the same way. */
export function notifierProblems(notifier: Notifier): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const refuse = (field: keyof Notifier, why: string) => {
    if (notifier[field] !== undefined) problems.push({ path: [field], message: `${field}: ${why}` });
  };
  const need = (field: keyof Notifier, why: string) => {
    // Pointed at `type`: the type is what asks for the field.
    if (notifier[field] === undefined) problems.push({ path: ['type'], message: `missing required field "${field}": ${why}` });
  };
  const type = notifier.type;
  if (type === 'email') {
    need('to', 'an email notifier sends to these addresses');
    need('from', 'an email notifier needs a sender address');
    need('smtp', 'an email notifier needs the SMTP server (host, port, user, passwordSecret)');
    for (const field of ['url', 'urlSecret', 'hmacSecret'] as const) refuse(field, 'only webhook, slack and teams notifiers have it');
    return problems;
  }
  for (const field of ['to', 'from', 'smtp'] as const) refuse(field, 'only email notifiers have it');
  if (type === 'slack' || type === 'teams') {
    refuse('url', `a ${type} incoming-webhook URL is a credential: store it as a secret and name it in "urlSecret"`);
    need('urlSecret', `the stored secret holding the ${type} incoming-webhook URL`);
    refuse('hmacSecret', 'only webhook notifiers sign their bodies');
  } else if ((notifier.url === undefined) === (notifier.urlSecret === undefined)) {
    problems.push({
      path: ['url'],
      message: 'url: a webhook notifier needs exactly one of "url" or "urlSecret" (a stored secret holding the URL)',
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Positions: from a data path back to where the author wrote it.

/**
 * The text offset a problem points at: the node at its path, or, when that node does not exist
 * (a missing required field), the nearest parent that does. A key written without a value (`timeout:`)
 * points at the key, since its empty value has no useful position.
 */
function offsetOf(document: Document.Parsed, problem: Problem): number {
  const path = problem.path;
  if (problem.at === 'key') {
    const key = keyNodeAt(document, path);
    if (key?.range) return key.range[0];
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth);
    const node = document.getIn(prefix, true);
    if (isNode(node) && node.range && !(isScalar(node) && node.value === null)) return node.range[0];
    const key = depth > 0 ? keyNodeAt(document, prefix) : undefined;
    if (key?.range) return key.range[0];
  }
  return 0;
}

function keyNodeAt(document: Document.Parsed, path: DataPath): Node | undefined {
  if (path.length === 0) return undefined;
  const parent = document.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const wanted = String(path[path.length - 1]);
  const pair = parent.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === wanted);
  return isNode(pair?.key) ? pair.key : undefined;
}

// ---------------------------------------------------------------------------------------------
// Wording.

/** `steps[1].timeout`, the way an author would point at the field. */
function formatPath(path: DataPath): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}

function withPath(path: DataPath, message: string): string {
  return path.length > 0 ? `${formatPath(path)}: ${message}` : message;
}

// In YAML terms an object is a mapping; everything else reads as it does for parameters.
function describeData(value: unknown): string {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return 'a mapping';
  return describeParamValue(value);
}
