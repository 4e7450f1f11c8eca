// Jest transform for the UI's TypeScript (portal/web/src), so TestBed can compile its components just in time.
// Signal inputs, outputs and queries (input(), output(), viewChild()) exist only as field initialisers, which the JIT
// compiler cannot see before a component is created; SWC alone leaves them out and a test cannot set an input (NG0950).
// Angular's own JIT transform, the one the Angular CLI applies to JIT builds, declares them as the decorators the JIT
// compiler reads. It needs a TypeScript program, so TypeScript compiles these files instead of SWC. It comes from
// @angular/compiler-cli's private/tooling entry, the channel Angular keeps for its CLI: after an Angular upgrade that
// breaks the component specs, look here first. An ES module, so it can import @angular/compiler-cli (ES modules only)
// without Node 20's experimental require(esm).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { constructorParametersDownlevelTransform as angularJitTransform } from '@angular/compiler-cli/private/tooling';

const require = createRequire(import.meta.url);

// One file at a time, like SWC: no type checking, no module resolution; the transform reads decorators and imports
// from the file's own syntax.
const COMPILER_OPTIONS = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  esModuleInterop: true,
  experimentalDecorators: true,
  useDefineForClassFields: false,
  isolatedModules: true,
  noLib: true,
  noResolve: true,
  types: [],
  inlineSourceMap: true,
  inlineSources: true,
};

// What the output depends on besides the file: this transform and the compilers' versions.
const TOOLING_KEY = [
  readFileSync(fileURLToPath(import.meta.url), 'utf8'),
  ts.version,
  require('@angular/compiler-cli/package.json').version,
].join('\0');

function compile(sourceText, fileName) {
  const sourceFile = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.ES2022, true);
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  host.getSourceFile = (name) => (name === fileName ? sourceFile : undefined);
  host.fileExists = (name) => name === fileName;
  host.readFile = (name) => (name === fileName ? sourceText : undefined);
  const program = ts.createProgram([fileName], COMPILER_OPTIONS, host);
  let code = '';
  const { emitSkipped, diagnostics } = program.emit(
    sourceFile,
    (name, text) => {
      if (name.endsWith('.js')) code = text;
    },
    undefined,
    false,
    { before: [angularJitTransform(program)] },
  );
  if (emitSkipped || code === '') {
    const reasons = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n');
    throw new Error(`${fileName}: TypeScript emitted nothing${reasons ? `:\n${reasons}` : ''}`);
  }
  return code;
}

export default {
  getCacheKey(sourceText, sourcePath) {
    return createHash('sha256').update(TOOLING_KEY).update('\0').update(sourcePath).update('\0').update(sourceText).digest('hex');
  },
  process(sourceText, sourcePath) {
    return { code: compile(sourceText, sourcePath) };
  },
};
