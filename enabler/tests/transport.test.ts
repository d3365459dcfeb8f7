import { afterEach, describe, expect, it } from 'vitest';
import { translations } from '../src/i18n';
import { Enabler } from '../src/index';
import { mockFetch, PROCESSOR, setup, type, valid } from './helpers';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('transport errors', () => {
  const cases: [string, { status: number; text?: string; body?: unknown } | Error][] = [
    ['network failure', new TypeError('Failed to fetch')],
    ['HTTP 500', { status: 500, body: { message: 'boom', statusCode: 500, errors: [] } }],
    ['HTTP 401 (session)', { status: 401, body: { message: 'Session is not active', statusCode: 401, errors: [] } }],
    ['non-JSON 200', { status: 200, text: '<html>proxy</html>' }],
    ['200 without a state', { status: 200, body: { hello: 'world' } }],
    ['400 with an unknown state', { status: 400, body: { status: { state: 'Weird' } } }],
  ];
  for (const [name, reply] of cases) {
    it(`balance() rejects and calls onError once on ${name}`, async () => {
      const { component, codeInput, codeError, onError } = await setup({ locale: 'sk' }, {}, { 'POST /balance': reply });
      type(codeInput(), 'Valid-100-EUR');
      const error = await component.balance().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(onError).toHaveBeenCalledTimes(1);
      expect(onError).toHaveBeenCalledWith(error);
      expect(codeError().textContent).toBe(translations.sk!.unreachable);
      expect(codeInput().hasAttribute('aria-invalid')).toBe(false);
    });
  }

  it('submit() calls onError (not onComplete) when /redeem is unreachable', async () => {
    const { component, codeInput, onError, onComplete } = await setup({}, {}, { 'POST /redeem': new TypeError('offline') });
    type(codeInput(), 'Valid-100-EUR');
    await component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onComplete).not.toHaveBeenCalled();
  });

  it('submit() calls onError when /redeem answers 500', async () => {
    const { component, codeInput, onError, onComplete } = await setup({}, {}, { 'POST /redeem': { status: 500, text: 'oops' } });
    type(codeInput(), 'Valid-100-EUR');
    await component.submit();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onComplete).not.toHaveBeenCalled();
  });
});

describe('createGiftCardBuilder()', () => {
  const rejects = async (options: unknown) => {
    const enabler = new Enabler(options as ConstructorParameters<typeof Enabler>[0]);
    await expect(enabler.createGiftCardBuilder()).rejects.toBeInstanceOf(Error);
  };

  it('rejects without processorUrl', async () => {
    const fetchMock = mockFetch({});
    await rejects({ sessionId: 's' });
    await rejects({ processorUrl: '', sessionId: 's' });
    expect(fetchMock.fn).not.toHaveBeenCalled();
  });

  it('rejects without sessionId', async () => {
    mockFetch({});
    await rejects({ processorUrl: PROCESSOR });
    await rejects({ processorUrl: PROCESSOR, sessionId: '   ' });
  });

  it('rejects without options or with a non-http URL', async () => {
    mockFetch({});
    await rejects(undefined);
    await rejects({ processorUrl: 'javascript:alert(1)', sessionId: 's' });
  });

  it('rejects when the config endpoint is unreachable', async () => {
    mockFetch({ 'GET /enabler/config': new TypeError('Failed to fetch') });
    await rejects({ processorUrl: PROCESSOR, sessionId: 's' });
  });

  it('rejects when the config endpoint answers 500 or 401', async () => {
    mockFetch({ 'GET /enabler/config': { status: 500, text: 'err' } });
    await rejects({ processorUrl: PROCESSOR, sessionId: 's' });
    mockFetch({ 'GET /enabler/config': { status: 401, body: { message: 'Session is not active' } } });
    await rejects({ processorUrl: PROCESSOR, sessionId: 's' });
  });

  it('resolves when the config endpoint is missing (404: older Processor)', async () => {
    mockFetch({ 'GET /enabler/config': { status: 404, body: { message: 'Not Found' } } });
    const builder = await new Enabler({ processorUrl: PROCESSOR, sessionId: 's' }).createGiftCardBuilder();
    expect(typeof builder.build).toBe('function');
  });
});

describe('processorUrl', () => {
  for (const base of [PROCESSOR, `${PROCESSOR}/`, `${PROCESSOR}//`]) {
    it(`"${base}" builds clean URLs`, async () => {
      const { component, codeInput, fetchMock } = await setup({ processorUrl: base });
      type(codeInput(), 'Valid-100-EUR');
      await component.submit();
      expect(fetchMock.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
        `GET ${PROCESSOR}/enabler/config`,
        `POST ${PROCESSOR}/balance`,
        `POST ${PROCESSOR}/redeem`,
      ]);
    });
  }

  it('keeps a path prefix', async () => {
    const { component, codeInput, fetchMock } = await setup({ processorUrl: `${PROCESSOR}/giftcards/` }, {}, {
      'POST /giftcards/balance': valid(100),
    });
    type(codeInput(), 'Valid-100-EUR');
    await component.balance();
    expect(fetchMock.calls.map((c) => c.url)).toEqual([
      `${PROCESSOR}/giftcards/enabler/config`,
      `${PROCESSOR}/giftcards/balance`,
    ]);
  });
});
