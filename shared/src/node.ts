/** @baton/shared/node: the parts of the shared library that need Node.js (signing, the step executor). */
export * from './protocol/signing';
export * from './executor/node-run';
export * from './executor/outputs';
export * from './executor/host';
export * from './executor/process';
export * from './executor/shell-quote';
export * from './protocol/identity';
