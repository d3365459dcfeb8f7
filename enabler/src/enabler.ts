import { ProcessorClient } from './api';
import { GiftCardFormBuilder } from './component';
import { messagesFor, resolveLocale } from './i18n';
import type { EnablerConfig, EnablerOptions, GiftCardBuilder, GiftCardEnabler } from './types';

function requireText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`Gift card enabler: option "${name}" is required`);
  }
  return value.trim();
}

/**
 * Entry point loaded by commercetools Checkout:
 * `const builder = await new Enabler({processorUrl, sessionId}).createGiftCardBuilder()`.
 */
export class Enabler implements GiftCardEnabler {
  private readonly options: EnablerOptions;

  constructor(options: EnablerOptions) {
    // Validation happens in createGiftCardBuilder(), whose promise is the documented place to fail.
    this.options = (typeof options === 'object' && options !== null ? { ...options } : {}) as EnablerOptions;
  }

  async createGiftCardBuilder(): Promise<GiftCardBuilder> {
    for (const name of ['onComplete', 'onError'] as const) {
      const value = this.options[name];
      if (value !== undefined && typeof value !== 'function') {
        throw new Error(`Gift card enabler: option "${name}" must be a function`);
      }
    }
    const processorUrl = requireText(this.options.processorUrl, 'processorUrl');
    const sessionId = requireText(this.options.sessionId, 'sessionId');
    try {
      const base = typeof location !== 'undefined' ? location.href : undefined;
      const url = new URL(processorUrl, base);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(url.protocol);
    } catch {
      throw new Error('Gift card enabler: option "processorUrl" is not an http(s) URL');
    }

    const client = new ProcessorClient(processorUrl, sessionId);
    let config: EnablerConfig;
    try {
      config = await client.config();
    } catch (cause) {
      const error = new Error(
        'Gift card enabler: the Processor did not answer GET /enabler/config as expected',
      );
      (error as { cause?: unknown }).cause = cause;
      throw error;
    }
    const locale = resolveLocale(this.options.locale);
    return new GiftCardFormBuilder({
      client,
      config,
      locale,
      messages: messagesFor(locale),
      enablerOptions: this.options,
    });
  }
}
