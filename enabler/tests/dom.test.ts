import { afterEach, describe, expect, it } from 'vitest';
import { resolveLocale, supportedLocales, translations } from '../src/i18n';
import { CSS, ROOT_CLASS, STYLE_ELEMENT_ID } from '../src/styles';
import { Enabler } from '../src/index';
import { mockFetch, PROCESSOR, setup } from './helpers';

afterEach(() => {
  document.body.innerHTML = '';
  document.getElementById(STYLE_ELEMENT_ID)?.remove();
});

describe('accessibility', () => {
  it('labels are tied to inputs; errors are referenced by aria-describedby; one live region announces', async () => {
    const { container, codeInput, codeError } = await setup({}, {}, {
      'GET /enabler/config': { status: 200, body: { pinRequired: true } },
    });
    for (const input of Array.from(container.querySelectorAll('input'))) {
      const label = container.querySelector<HTMLLabelElement>(`label[for="${input.id}"]`);
      expect(label).not.toBeNull();
      expect(label!.control).toBe(input);
      const error = document.getElementById(input.getAttribute('aria-describedby')!)!;
      // Not live itself: a live region inside a live region (or role=alert + aria-live=polite) reads twice.
      expect(error.getAttribute('role')).toBeNull();
      expect(error.getAttribute('aria-live')).toBeNull();
      expect(error.id).toBe(`${input.id}-error`);
    }
    const live = container.querySelectorAll('[role=status], [role=alert], [aria-live]');
    expect(live).toHaveLength(1);
    expect(live[0]!.getAttribute('role')).toBe('status');
    expect(live[0]!.getAttribute('data-testid')).toBe('giftcard-live');
    expect(codeInput().id).toBe('ctgc-giftcard-code');
    expect(codeError().id).toBe('ctgc-giftcard-code-error');
    expect(codeInput().getAttribute('aria-required')).toBe('true');
  });

  it('ids stay unique with two components on one page', async () => {
    mockFetch({ 'GET /enabler/config': { status: 200, body: { pinRequired: false } } });
    const builder = await new Enabler({ processorUrl: PROCESSOR, sessionId: 's' }).createGiftCardBuilder();
    const a = document.createElement('div');
    const b = document.createElement('div');
    document.body.append(a, b);
    builder.build({}).mount(a);
    builder.build({}).mount(b);
    const ids = Array.from(document.querySelectorAll('[id]')).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('mount() throws for a selector that matches nothing', async () => {
    mockFetch({ 'GET /enabler/config': { status: 200, body: { pinRequired: false } } });
    const builder = await new Enabler({ processorUrl: PROCESSOR, sessionId: 's' }).createGiftCardBuilder();
    expect(() => builder.build({}).mount('#nope')).toThrow(Error);
  });
});

describe('i18n', () => {
  it('locales: en, de, fr, nl, cs, sk, ro with the same complete key set', () => {
    expect(supportedLocales.sort()).toEqual(['cs', 'de', 'en', 'fr', 'nl', 'ro', 'sk']);
    const keys = Object.keys(translations.en!).sort();
    for (const locale of supportedLocales) {
      expect(Object.keys(translations[locale]!).sort()).toEqual(keys);
      for (const value of Object.values(translations[locale]!)) expect(value.trim()).not.toBe('');
    }
  });

  it('region tags fall back to the language, unknown locales to English', () => {
    expect(resolveLocale('de-DE')).toBe('de');
    expect(resolveLocale('fr_CA')).toBe('fr');
    expect(resolveLocale('CS')).toBe('cs');
    expect(resolveLocale('xx-YY')).toBe('en');
    expect(resolveLocale('')).toBe('en');
    expect(resolveLocale(undefined)).toBe('en');
  });

  for (const [locale, lang] of [['de-AT', 'de'], ['sk-SK', 'sk'], ['pt-BR', 'en'], [undefined, 'en']] as const) {
    it(`labels and placeholders follow locale ${String(locale)}`, async () => {
      const { container, codeInput } = await setup(locale === undefined ? {} : { locale });
      expect(container.querySelector('label')!.textContent).toBe(translations[lang]!.codeLabel);
      expect(codeInput().placeholder).toBe(translations[lang]!.codePlaceholder);
      expect(container.querySelector(`.${ROOT_CLASS}`)!.getAttribute('lang')).toBe(lang);
    });
  }
});

describe('styles', () => {
  it('every selector of the injected stylesheet is under .ctgc-root', async () => {
    await setup();
    await setup();
    const styles = document.querySelectorAll('style');
    expect(styles).toHaveLength(1);
    const sheet = (styles[0] as HTMLStyleElement).sheet!;
    expect(sheet.cssRules.length).toBeGreaterThan(3);
    const check = (rules: CSSRuleList) => {
      for (const rule of Array.from(rules)) {
        // jsdom has no CSSKeyframesRule global: tell the kinds apart by their fields
        if ('name' in rule && typeof rule.name === 'string') {
          expect(rule.name.startsWith('ctgc-')).toBe(true); // animation names are global: prefixed
          continue;
        }
        if ('media' in rule && 'cssRules' in rule) {
          check((rule as CSSMediaRule).cssRules);
          continue;
        }
        expect(rule).toBeInstanceOf(CSSStyleRule);
        for (const selector of (rule as CSSStyleRule).selectorText.split(',')) {
          expect(selector.trim()).toMatch(new RegExp(`^\\.${ROOT_CLASS}(?![\\w-])`));
        }
      }
    };
    check(sheet.cssRules);
  });

  it('the CSS text itself has no rule outside the prefix', () => {
    const selectors = CSS.split('}')
      .map((chunk) => chunk.split('{').at(-2)?.trim() ?? '')
      .filter(Boolean);
    expect(selectors.length).toBeGreaterThan(3);
    for (const group of selectors) {
      if (/^(to|from|\d+%)$/.test(group)) continue; // keyframe steps
      for (const selector of group.split(',')) expect(selector.trim().startsWith(`.${ROOT_CLASS}`)).toBe(true);
    }
    expect(CSS).not.toMatch(/--ctgc-[\w-]+\s*:/); // properties are read with defaults, never set here
  });

  it('elements use the ctgc- class prefix; inputs have stable names', async () => {
    const { container } = await setup({}, {}, { 'GET /enabler/config': { status: 200, body: { pinRequired: true } } });
    for (const el of Array.from(container.querySelectorAll('[class]'))) {
      for (const cls of Array.from(el.classList)) expect(cls.startsWith('ctgc-')).toBe(true);
    }
    expect(container.querySelector('input[name="giftcard-code"][data-testid="giftcard-code"]')).not.toBeNull();
    expect(container.querySelector('input[name="giftcard-pin"][data-testid="giftcard-pin"]')).not.toBeNull();
  });
});
