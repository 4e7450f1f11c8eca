/** What the UI reads of a runbook; the parameter specs, steps and targets come from the shared schema. */
import type { ApprovalPolicy, ParamSpec, Step, Targets } from '@baton/shared';

export interface RunbookSummary {
  id: string;
  namespace: string;
  title: string;
  description?: string;
  tags: string[];
  params: Record<string, ParamSpec>;
  targets?: Targets;
  version: string;
}

export interface RunbookDetail {
  id: string;
  title: string;
  description?: string;
  tags?: string[];
  access?: { run?: string[]; view?: string[] };
  params?: Record<string, ParamSpec>;
  targets?: Targets;
  timeout?: string;
  steps: Step[];
  onFailure?: Step[];
  /** Runs (or runs with certain parameters) wait for approval before they start. */
  approval?: ApprovalPolicy;
  version: string;
  sourceFile?: string;
  updatedAt?: string;
}
