// @vitest-environment node
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM build script without type declarations
import { bundle, ES_FILE, OUT_DIR, UMD_FILE } from '../scripts/bundle.mjs';

describe('committed build', () => {
  it('src/giftcard_connector/static/enabler/ matches a fresh build byte for byte (run `npm run build`)', async () => {
    const files = (await bundle()) as Record<string, string>;
    expect(Object.keys(files).sort()).toEqual([ES_FILE, UMD_FILE].sort());
    for (const [name, text] of Object.entries(files)) {
      const committed = readFileSync(join(OUT_DIR, name), 'utf8');
      expect(committed === text, `${name} is stale: run \`npm run build\` in enabler/ and commit it`).toBe(true);
    }
  });

  it('the ES module exports Enabler', async () => {
    const mod = await import(pathToFileURL(join(OUT_DIR, ES_FILE)).href);
    expect(typeof mod.Enabler).toBe('function');
    expect(Object.keys(mod)).toEqual(['Enabler']);
  });

  it('the UMD file defines Connector.Enabler as a classic script and keeps other Connector members', () => {
    const code = readFileSync(join(OUT_DIR, UMD_FILE), 'utf8');
    // a classic script in a page where another connector already defined `Connector`
    const context = vm.createContext({ Connector: { Other: 1 } });
    vm.runInContext(code, context);
    const connector = (context as unknown as { Connector: Record<string, unknown> }).Connector;
    expect(typeof connector.Enabler).toBe('function');
    expect(connector.Other).toBe(1);
  });

  it('the UMD file also works under CommonJS', () => {
    const code = readFileSync(join(OUT_DIR, UMD_FILE), 'utf8');
    const module = { exports: {} as Record<string, unknown> };
    const context = vm.createContext({ module, exports: module.exports, require: createRequire(import.meta.url) });
    vm.runInContext(code, context);
    expect(typeof module.exports.Enabler).toBe('function');
  });

  it('bundles stay small and dependency-free', () => {
    for (const name of [ES_FILE, UMD_FILE]) {
      const code = readFileSync(join(OUT_DIR, name), 'utf8');
      expect(code.length).toBeLessThan(40_000);
      expect(code).not.toMatch(/\brequire\(|\bimport\s*\(|^import /m);
    }
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.dependencies).toBeUndefined();
  });
});
