/**
 * What only some commands need: the portal's parser and its schemas (lint), and shared's duration rules (audit).
 * They are most of the CLI's code, so commands load this module on first use; the build keeps it out of the
 * start-up path altogether (see cli/build.js).
 */
export { formatLoadError, isLintWorkerData, lintPaths, lintWorker } from './lint';
export { isDuration, parseDuration } from '@baton/shared';
