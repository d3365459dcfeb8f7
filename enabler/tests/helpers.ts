import { vi } from 'vitest';
import { Enabler } from '../src/index';
import type { EnablerOptions, GiftCardComponent, GiftCardOptions } from '../src/types';

export const PROCESSOR = 'https://processor.example';

export type Reply = { status: number; body?: unknown; text?: string } | Error;
export type Handler = (call: { url: string; method: string; body: unknown; headers: Headers }) => Reply | Promise<Reply>;

export type FetchMock = ReturnType<typeof mockFetch>;

/** A fetch stub answering by `METHOD path` (path relative to the Processor's origin). */
export function mockFetch(routes: Record<string, Reply | Handler>) {
  const calls: { url: string; method: string; body: unknown; headers: Headers }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    const call = { url, method, body, headers };
    calls.push(call);
    const path = new URL(url).pathname;
    const route = routes[`${method} ${path}`];
    if (route === undefined) return new Response('{"message":"no route"}', { status: 404 });
    const reply = typeof route === 'function' ? await route(call) : route;
    if (reply instanceof Error) throw reply;
    const text = reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    return new Response(text, { status: reply.status, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fn);
  return { fn, calls, callsTo: (method: string, path: string) => calls.filter((c) => c.method === method && new URL(c.url).pathname === path) };
}

export const cardError = (state: string, status = 400): Reply => ({
  status,
  body: { status: { state, errors: [{ code: state, message: `provider says ${state}` }] } },
});

export const valid = (centAmount: number, currencyCode = 'EUR'): Reply => ({
  status: 200,
  body: { status: { state: 'Valid' }, amount: { centAmount, currencyCode } },
});

/** Balance answers like the mock provider: `Valid-<amount>-<currency>`, `Expired`, `NotFound`, ... */
export const mockProviderBalance: Handler = ({ body }) => {
  const code = String((body as { code: string }).code);
  const m = /^Valid-(\d+)-([A-Z]{3})$/.exec(code);
  if (m) return Number(m[1]) === 0 ? cardError('ZeroBalance') : valid(Number(m[1]), m[2]);
  if (code === 'NotFound') return cardError('NotFound', 404);
  if (['Expired', 'CurrencyNotMatch', 'ZeroBalance'].includes(code)) return cardError(code);
  return cardError('GenericError');
};

export async function setup(
  options: Partial<EnablerOptions> = {},
  giftCardOptions: GiftCardOptions = {},
  routes: Record<string, Reply | Handler> = {},
) {
  const fetchMock = mockFetch({
    'GET /enabler/config': { status: 200, body: { pinRequired: false } },
    'POST /balance': mockProviderBalance,
    'POST /redeem': {
      status: 200,
      body: { result: 'Success', paymentReference: 'payment-1', redemptionId: 'red-1' },
    },
    ...routes,
  });
  const onComplete = vi.fn();
  const onError = vi.fn();
  const enabler = new Enabler({
    processorUrl: PROCESSOR,
    sessionId: 'session-123',
    onComplete,
    onError,
    ...options,
  });
  const builder = await enabler.createGiftCardBuilder();
  const component = builder.build(giftCardOptions);
  const container = document.createElement('div');
  container.id = 'giftcard-container';
  document.body.appendChild(container);
  component.mount('#giftcard-container');
  return { fetchMock, onComplete, onError, component, container, ...dom(container) };
}

export function dom(container: HTMLElement) {
  const q = <T extends Element>(s: string) => container.querySelector<T>(s);
  return {
    codeInput: () => q<HTMLInputElement>('input[name="giftcard-code"]')!,
    pinInput: () => q<HTMLInputElement>('input[name="giftcard-pin"]'),
    codeError: () => {
      const input = q<HTMLInputElement>('input[name="giftcard-code"]')!;
      return document.getElementById(input.getAttribute('aria-describedby')!)!;
    },
    pinError: () => {
      const input = q<HTMLInputElement>('input[name="giftcard-pin"]')!;
      return document.getElementById(input.getAttribute('aria-describedby')!)!;
    },
  };
}

export function type(input: HTMLInputElement, value: string) {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

export function pressEnter(input: HTMLInputElement) {
  const event = new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true });
  input.dispatchEvent(event);
  return event;
}

export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

export type Mounted = Awaited<ReturnType<typeof setup>> & { component: GiftCardComponent };
