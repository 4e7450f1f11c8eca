// One Jest run for the whole workspace: unit tests beside the code, integration tests in each project's test/.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@baton/shared$': '<rootDir>/shared/src/index.ts',
    '^@baton/shared/node$': '<rootDir>/shared/src/node.ts',
  },
  roots: ['<rootDir>/shared', '<rootDir>/agent', '<rootDir>/portal/api'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 30000,
};
