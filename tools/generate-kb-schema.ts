// Writes schema/rollwise-kb.schema.json from the zod schema in src/kb/schema.ts (`npm run schema`).
// test/kb/schema-json.test.ts fails when the committed file differs from what this would write.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderKbJsonSchema } from '../src/kb/index.js';

const target = fileURLToPath(new URL('../schema/rollwise-kb.schema.json', import.meta.url));
writeFileSync(target, renderKbJsonSchema());
process.stdout.write(`wrote ${target}\n`);
