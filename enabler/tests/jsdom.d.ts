// The few jsdom APIs the tests use (avoids another devDependency for @types/jsdom).
declare module 'jsdom' {
  export class JSDOM {
    constructor(html?: string, options?: { runScripts?: 'dangerously' | 'outside-only'; url?: string });
    readonly window: Window & typeof globalThis & { eval(code: string): unknown };
  }
}
