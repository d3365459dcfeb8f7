// npm run build            -> writes the bundles into src/giftcard_connector/static/enabler/
// npm run check (--check)  -> fails when the committed bundles differ from a fresh build
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundle, bundleTypes, OUT_DIR } from './bundle.mjs';

const check = process.argv.includes('--check');
const files = { ...(await bundle()), ...bundleTypes() };
let stale = 0;
for (const [name, text] of Object.entries(files)) {
  const path = join(OUT_DIR, name);
  const shown = relative(process.cwd(), path);
  if (check) {
    const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (current !== text) {
      stale += 1;
      console.error(`${shown} is out of date; run \`npm run build\` in enabler/ and commit it`);
    }
  } else {
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(path, text);
    const bytes = Buffer.byteLength(text);
    console.log(`${shown}  ${bytes} B  (${gzipSync(text).length} B gzip)`);
  }
}
if (check) {
  if (stale) process.exit(1);
  console.log('built Enabler files are up to date');
}
