/** Class prefix of every element the Enabler renders. */
export const PREFIX = 'ctgc';
export const ROOT_CLASS = `${PREFIX}-root`;
export const STYLE_ELEMENT_ID = `${PREFIX}-styles`;

/**
 * Every selector starts with `.ctgc-root`, so nothing leaks into the shop's page.
 * Shops can theme the fields through the custom properties.
 */
export const CSS = [
  `.${ROOT_CLASS}{--ctgc-gap:.75rem;--ctgc-radius:4px;--ctgc-border:#8a8f98;--ctgc-focus:#1f6feb;--ctgc-error:#b3261e;--ctgc-text:inherit;display:flex;flex-direction:column;gap:var(--ctgc-gap);font:inherit;color:var(--ctgc-text)}`,
  `.${ROOT_CLASS} .${PREFIX}-field{display:flex;flex-direction:column;gap:.25rem;margin:0}`,
  `.${ROOT_CLASS} .${PREFIX}-label{font-weight:600;font-size:.875em}`,
  `.${ROOT_CLASS} .${PREFIX}-optional{font-weight:400;margin-left:.25em}`,
  `.${ROOT_CLASS} .${PREFIX}-input{box-sizing:border-box;width:100%;padding:.5rem .75rem;font:inherit;border:1px solid var(--ctgc-border);border-radius:var(--ctgc-radius);background:#fff;color:inherit}`,
  `.${ROOT_CLASS} .${PREFIX}-input:focus{outline:2px solid var(--ctgc-focus);outline-offset:1px}`,
  `.${ROOT_CLASS} .${PREFIX}-input[aria-invalid="true"]{border-color:var(--ctgc-error)}`,
  `.${ROOT_CLASS} .${PREFIX}-error{color:var(--ctgc-error);font-size:.875em}`,
].join('\n');

/** Adds the stylesheet once per document. */
export function injectStyles(doc: Document): void {
  if (doc.getElementById(STYLE_ELEMENT_ID)) return;
  const style = doc.createElement('style');
  style.id = STYLE_ELEMENT_ID;
  style.textContent = CSS;
  (doc.head ?? doc.documentElement).appendChild(style);
}
