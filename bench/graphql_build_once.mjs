// graphql_build_once.mjs — the JavaScript yardstick as a user meets it under
// Node: one whole process that imports graphql-js, reads the SDL file and
// builds the schema once. bench/run times the process from outside
// (wes_bench_rusage: wall time, CPU time, peak RSS), as it times wesley.
// Wesley's directives and scalars are not declared in the file, so
// buildSchema runs with assumeValidSDL, as in graphql_ref.mjs.
//   node bench/graphql_build_once.mjs FILE
// Prints the number of types in the built schema; exits non-zero on failure.
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/graphql_build_once.mjs FILE');
  process.exit(2);
}
const schema = buildSchema(readFileSync(file, 'utf8'), { assumeValidSDL: true });
console.log(Object.keys(schema.getTypeMap()).length);
