/** What the UI reads of a runbook; the parameter specs come from the shared schema. */
import type { ParamSpec } from '@baton/shared';

export interface RunbookSummary {
  id: string;
  title: string;
  description?: string;
}

export interface RunbookDetail extends RunbookSummary {
  params?: Record<string, ParamSpec>;
}
