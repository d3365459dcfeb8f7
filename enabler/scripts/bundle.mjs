// Builds both Enabler files in memory; used by `npm run build` and by the drift check in the tests.
import * as esbuild from 'esbuild';
import { generateDtsBundle } from 'dts-bundle-generator';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ENABLER_DIR = resolve(here, '..');
export const OUT_DIR = resolve(ENABLER_DIR, '../src/giftcard_connector/static/enabler');
export const ES_FILE = 'connector-enabler.es.js';
export const UMD_FILE = 'connector-enabler.umd.js';
export const DTS_FILE = 'connector-enabler.d.ts';

const HEADER =
  '/*! commercetools gift card connector: Enabler. Generated from enabler/src by `npm run build`; do not edit. */\n';

const common = {
  absWorkingDir: ENABLER_DIR,
  entryPoints: ['src/index.ts'],
  bundle: true,
  minify: true,
  write: false,
  platform: 'browser',
  target: ['es2019'],
  charset: 'utf8',
  legalComments: 'none',
  logLevel: 'silent',
};

// Global `Connector.Enabler` for a classic <script>; `module.exports` under CommonJS.
const UMD_OPEN =
  '(function(root,factory){var m=factory();' +
  'if(typeof module==="object"&&module&&module.exports){module.exports=m}' +
  'if(root){root.Connector=root.Connector||{};root.Connector.Enabler=m.Enabler}' +
  '})(typeof globalThis!=="undefined"?globalThis:typeof self!=="undefined"?self:typeof window!=="undefined"?window:this,function(){\n';
const UMD_CLOSE = 'return __ctgcEnabler;});\n';

/** @returns {Promise<Record<string, string>>} file name -> contents */
export async function bundle() {
  const es = await esbuild.build({ ...common, format: 'esm' });
  const iife = await esbuild.build({ ...common, format: 'iife', globalName: '__ctgcEnabler' });
  const esText = es.outputFiles[0].text;
  const iifeText = iife.outputFiles[0].text;
  return {
    [ES_FILE]: HEADER + esText,
    [UMD_FILE]: HEADER + UMD_OPEN + iifeText + UMD_CLOSE,
  };
}

/**
 * The public types in one file beside the builds (served at /enabler/connector-enabler.d.ts).
 * `export as namespace Connector` types the UMD global `Connector.Enabler` as well.
 * @returns {Record<string, string>} file name -> contents
 */
export function bundleTypes() {
  const [text] = generateDtsBundle([{ filePath: resolve(ENABLER_DIR, 'src/index.ts'), output: { noBanner: true } }], {
    preferredConfigPath: resolve(ENABLER_DIR, 'tsconfig.dts.json'),
  });
  const header =
    '/*! commercetools gift card connector: Enabler types. Generated from enabler/src by `npm run build`; do not edit. */\n';
  return { [DTS_FILE]: header + text.replace(/\s*export \{\};\s*$/, '\n') + '\nexport as namespace Connector;\n' };
}
