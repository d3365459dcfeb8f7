// @vitest-environment node
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM build script without type declarations
import { bundle, bundleTypes, DTS_FILE, ES_FILE, OUT_DIR, UMD_FILE } from '../scripts/bundle.mjs';

describe('committed build', () => {
  it('src/giftcard_connector/static/enabler/ matches a fresh build byte for byte (run `npm run build`)', async () => {
    const files = (await bundle()) as Record<string, string>;
    expect(Object.keys(files).sort()).toEqual([ES_FILE, UMD_FILE].sort());
    for (const [name, text] of Object.entries(files)) {
      const committed = readFileSync(join(OUT_DIR, name), 'utf8');
      expect(committed === text, `${name} is stale: run \`npm run build\` in enabler/ and commit it`).toBe(true);
    }
  });

  it('connector-enabler.d.ts matches a fresh build and declares the public API', () => {
    const files = bundleTypes() as Record<string, string>;
    const text = files[DTS_FILE]!;
    const committed = readFileSync(join(OUT_DIR, DTS_FILE), 'utf8');
    expect(committed === text, `${DTS_FILE} is stale: run \`npm run build\` in enabler/ and commit it`).toBe(true);
    for (const name of ['class Enabler', 'type EnablerOptions', 'type BalanceType', 'interface GiftCardComponent']) {
      expect(text).toContain(name);
    }
    expect(text).toContain('export as namespace Connector;'); // types the UMD global too
  }, 60_000); // the declaration bundler runs the TypeScript compiler

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

  it('the built UMD file works end to end in a page (classic script, real DOM)', async () => {
    const dom = new JSDOM('<!doctype html><div id="gc"></div>', { runScripts: 'outside-only', url: 'https://shop.example/' });
    const win = dom.window as unknown as Window & typeof globalThis & { Connector: { Enabler: new (o: unknown) => any } };
    const requests: string[] = [];
    win.fetch = (async (url: string, init: RequestInit) => {
      requests.push(`${init.method} ${url} ${new Headers(init.headers).get('X-Session-Id')}`);
      if (url.endsWith('/enabler/config')) return new Response('{"pinRequired":false}', { status: 200 });
      return new Response('{"status":{"state":"Expired","errors":[{"code":"Expired","message":"x"}]}}', { status: 400 });
    }) as typeof fetch;
    dom.window.eval(readFileSync(join(OUT_DIR, UMD_FILE), 'utf8'));
    const enabler = new win.Connector.Enabler({ processorUrl: 'https://proc.example/', sessionId: 'sid', locale: 'de-DE' });
    const component = (await enabler.createGiftCardBuilder()).build({});
    component.mount('#gc');
    const input = win.document.querySelector('input[name="giftcard-code"]') as HTMLInputElement;
    input.value = 'Expired';
    const result = await component.balance();
    expect(result.status.state).toBe('Expired');
    expect(win.document.getElementById('ctgc-giftcard-code-error')!.textContent).toBe('Diese Geschenkkarte ist abgelaufen.');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(requests).toEqual(['GET https://proc.example/enabler/config sid', 'POST https://proc.example/balance sid']);
    expect(win.document.querySelectorAll('style#ctgc-styles')).toHaveLength(1);
  });
});
