/** @baton/shared: what the portal, the agent and the UI must agree on. Browser-safe; node-only parts are in ./node. */
export * from './duration';
export * from './runbook/schema';
export * from './runbook/cron';
export * from './protocol/subjects';
export * from './protocol/messages';
export * from './protocol/enrollment';
export * from './runbook/parse';
export * from './runbook/dag';
export * from './runbook/params';
export * from './executor/mask';
export * from './runbook/secret-refs';
export * from './alerts/alert-rule';
