/** Class prefix of every element the Enabler renders. */
export const PREFIX = 'ctgc';
export const ROOT_CLASS = `${PREFIX}-root`;
export const STYLE_ELEMENT_ID = `${PREFIX}-styles`;

const R = `.${ROOT_CLASS}`;

/**
 * Theming: the custom properties below (documented in the README) are only read, never declared on
 * `.ctgc-root`, so a shop sets them on any ancestor (`:root`, its checkout container) and they win;
 * each `var()` carries the default. Every selector starts with `.ctgc-root`: nothing leaks out.
 */
export const CSS = [
  `${R}{display:flex;flex-direction:column;gap:var(--ctgc-gap,.75rem);font-family:var(--ctgc-font,inherit);font-size:inherit;color:var(--ctgc-text,inherit)}`,
  `${R} .${PREFIX}-field{display:flex;flex-direction:column;gap:.25rem;margin:0;min-width:0}`,
  `${R} .${PREFIX}-label{font-weight:600;font-size:.875em}`,
  `${R} .${PREFIX}-optional{font-weight:400;margin-left:.25em}`,
  `${R} .${PREFIX}-control{display:flex;gap:.5rem;align-items:stretch;min-width:0}`,
  `${R} .${PREFIX}-input{box-sizing:border-box;flex:1 1 auto;min-width:0;width:100%;min-height:var(--ctgc-control-height,44px);padding:.5rem .75rem;font:inherit;border:1px solid var(--ctgc-border,#767b84);border-radius:var(--ctgc-radius,4px);background:var(--ctgc-background,#fff);color:inherit}`,
  `${R} .${PREFIX}-input:focus{outline:2px solid var(--ctgc-focus,#1f6feb);outline-offset:1px}`,
  `${R} .${PREFIX}-input:disabled{opacity:.65;cursor:progress}`,
  `${R} .${PREFIX}-input[aria-invalid="true"]{border-color:var(--ctgc-error,#b3261e)}`,
  `${R} .${PREFIX}-toggle{box-sizing:border-box;flex:0 0 auto;min-height:var(--ctgc-control-height,44px);min-width:44px;padding:0 .75rem;font:inherit;font-size:.875em;white-space:nowrap;border:1px solid var(--ctgc-border,#767b84);border-radius:var(--ctgc-radius,4px);background:var(--ctgc-background,#fff);color:var(--ctgc-accent,#1a5fc7);cursor:pointer}`,
  `${R} .${PREFIX}-toggle:focus-visible{outline:2px solid var(--ctgc-focus,#1f6feb);outline-offset:1px}`,
  `${R} .${PREFIX}-toggle:disabled{opacity:.65;cursor:progress}`,
  // One line reserved, so a one-line error does not push the page down.
  `${R} .${PREFIX}-error{color:var(--ctgc-error,#b3261e);font-size:.875em;min-height:1.4em;line-height:1.4}`,
  `${R} .${PREFIX}-feedback{display:flex;align-items:center;gap:.5rem;min-height:1.4em;font-size:.875em;line-height:1.4}`,
  `${R} .${PREFIX}-feedback--success{color:var(--ctgc-success,#1b7f3b);font-weight:600}`,
  `${R} .${PREFIX}-spinner{box-sizing:border-box;flex:0 0 auto;width:1em;height:1em;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:ctgc-spin .8s linear infinite}`,
  `@keyframes ctgc-spin{to{transform:rotate(360deg)}}`,
  `@media (prefers-reduced-motion:reduce){${R} .${PREFIX}-spinner{animation-duration:2.4s}}`,
  // The live region is for screen readers only: the same text is visible beside the field.
  `${R} .${PREFIX}-live{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}`,
].join('\n');

/** Adds the stylesheet once per document. */
export function injectStyles(doc: Document): void {
  if (doc.getElementById(STYLE_ELEMENT_ID)) return;
  const style = doc.createElement('style');
  style.id = STYLE_ELEMENT_ID;
  style.textContent = CSS;
  (doc.head ?? doc.documentElement).appendChild(style);
}
