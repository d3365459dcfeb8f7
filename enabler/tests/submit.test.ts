import { afterEach, describe, expect, it, vi } from 'vitest';
import { translations } from '../src/i18n';
import { cardError, setup, type } from './helpers';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('submit()', () => {
  it('redeems min(amount, balance) and passes a boolean isSuccess to onComplete', async () => {
    const { component, codeInput, fetchMock, onComplete } = await setup();
    type(codeInput(), 'Valid-1000-EUR');
    await component.submit({ amount: { centAmount: 400, currencyCode: 'EUR' } });
    const [redeem] = fetchMock.callsTo('POST', '/redeem');
    expect(redeem!.body).toEqual({ code: 'Valid-1000-EUR', redeemAmount: { centAmount: 400, currencyCode: 'EUR' } });
    expect(redeem!.headers.get('X-Session-Id')).toBe('session-123');
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect(onComplete).toHaveBeenCalledWith({
      isSuccess: true,
      paymentReference: 'payment-1',
      amount: { centAmount: 400, currencyCode: 'EUR' },
      remainingBalance: { centAmount: 600, currencyCode: 'EUR' },
    });
    expect(typeof onComplete.mock.calls[0]![0].isSuccess).toBe('boolean');
  });

  it('caps the amount at the card balance', async () => {
    const { component, codeInput, fetchMock } = await setup();
    type(codeInput(), 'Valid-1000-EUR');
    await component.submit({ amount: { centAmount: 5000, currencyCode: 'EUR' } });
    expect(fetchMock.callsTo('POST', '/redeem')[0]!.body).toMatchObject({ redeemAmount: { centAmount: 1000 } });
  });

  it('redeems the whole balance without an amount and reuses a known balance', async () => {
    const { component, codeInput, fetchMock } = await setup();
    type(codeInput(), 'Valid-750-EUR');
    await component.balance();
    await component.submit();
    expect(fetchMock.callsTo('POST', '/balance')).toHaveLength(1);
    expect(fetchMock.callsTo('POST', '/redeem')[0]!.body).toMatchObject({
      redeemAmount: { centAmount: 750, currencyCode: 'EUR' },
    });
  });

  it('accepts the specification\'s `currency` alias', async () => {
    const { component, codeInput, fetchMock } = await setup();
    type(codeInput(), 'Valid-750-EUR');
    await component.submit({ amount: { centAmount: 300, currency: 'EUR' } });
    expect(fetchMock.callsTo('POST', '/redeem')[0]!.body).toMatchObject({ redeemAmount: { centAmount: 300 } });
  });

  it('ignores a second submit while the first is in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { component, codeInput, fetchMock, onComplete } = await setup();
    const fetchFn = fetchMock.fn.getMockImplementation()!;
    fetchMock.fn.mockImplementation(async (input, init) => {
      if (String(input).endsWith('/redeem')) await gate;
      return fetchFn(input, init);
    });
    type(codeInput(), 'Valid-1000-EUR');
    const first = component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    const second = component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    await second;
    release();
    await first;
    type(codeInput(), 'Valid-1000-EUR'); // a success clears the fields
    await component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } }).then(() => undefined);
    expect(fetchMock.callsTo('POST', '/redeem')).toHaveLength(2); // first + the later, separate submit
    expect(onComplete).toHaveBeenCalledTimes(2);
  });

  it('a concurrent double submit sends exactly one redeem request', async () => {
    const { component, codeInput, fetchMock, onComplete } = await setup();
    type(codeInput(), 'Valid-1000-EUR');
    await Promise.all([component.submit(), component.submit(), component.submit()]);
    expect(fetchMock.callsTo('POST', '/redeem')).toHaveLength(1);
    expect(fetchMock.callsTo('POST', '/balance')).toHaveLength(1);
    expect(onComplete).toHaveBeenCalledTimes(1);
  });

  it('result Failure gives isSuccess false and shows "redemption failed"', async () => {
    const { component, codeInput, codeError, onComplete } = await setup({ locale: 'ro' }, {}, {
      'POST /redeem': { status: 200, body: { result: 'Failure', paymentReference: 'p-9', redemptionId: 'r' } },
    });
    type(codeInput(), 'Valid-1000-EUR');
    await component.submit();
    expect(onComplete).toHaveBeenCalledWith({ isSuccess: false, paymentReference: 'p-9' });
    expect(codeError().textContent).toBe(translations.ro!.redemptionFailed);
  });

  it('a gift card error from /redeem shows its message and completes unsuccessfully', async () => {
    const { component, codeInput, codeError, onComplete, onError } = await setup({ locale: 'cs' }, {}, {
      'POST /redeem': cardError('Expired'),
    });
    type(codeInput(), 'Valid-1000-EUR');
    await component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    expect(onComplete).toHaveBeenCalledWith({ isSuccess: false });
    expect(onError).not.toHaveBeenCalled();
    expect(codeError().textContent).toBe(translations.cs!.Expired);
    expect(codeInput().getAttribute('aria-invalid')).toBe('true');
  });

  it('a 400 general error from /redeem is the shop\'s mistake: onError and console, not a card error', async () => {
    const { component, codeInput, codeError, onComplete, onError } = await setup({}, {}, {
      'POST /redeem': { status: 400, body: { message: 'too much', statusCode: 400, errors: [{ code: 'InvalidField', message: 'x' }] } },
    });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    type(codeInput(), 'Valid-1000-EUR');
    await component.submit();
    expect(onComplete).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(String(onError.mock.calls[0]![0].message)).toContain('HTTP 400');
    expect(logged).toHaveBeenCalled();
    expect(codeError().textContent).toBe(translations.en!.redemptionFailed);
    expect(codeInput().getAttribute('aria-invalid')).toBeNull();
  });

  it('a card that is not usable completes unsuccessfully without redeeming', async () => {
    const { component, codeInput, codeError, fetchMock, onComplete } = await setup({ locale: 'de' });
    type(codeInput(), 'Valid-0-EUR');
    await component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    expect(onComplete).toHaveBeenCalledWith({ isSuccess: false });
    expect(fetchMock.callsTo('POST', '/redeem')).toHaveLength(0);
    expect(codeError().textContent).toBe(translations.de!.ZeroBalance);
  });

  it('an empty field completes unsuccessfully with "required"', async () => {
    const { component, codeError, fetchMock, onComplete } = await setup();
    await component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    expect(onComplete).toHaveBeenCalledWith({ isSuccess: false });
    expect(fetchMock.calls).toHaveLength(1); // only the config
    expect(codeError().textContent).toBe(translations.en!.codeRequired);
  });

  it('an amount in another currency than the card\'s is the shop\'s mistake: onError and console only', async () => {
    const { component, codeInput, fetchMock, onComplete, onError, codeError } = await setup();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    type(codeInput(), 'Valid-1000-EUR');
    await component.submit({ amount: { centAmount: 100, currencyCode: 'USD' } });
    expect(onComplete).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(String(onError.mock.calls[0]![0].message)).toMatch(/USD.*EUR/);
    expect(logged).toHaveBeenCalled();
    expect(fetchMock.callsTo('POST', '/redeem')).toHaveLength(0);
    expect(codeError().textContent).toBe(''); // the shopper's card is fine
    expect(codeInput().getAttribute('aria-invalid')).toBeNull();
    expect(codeInput().value).toBe('Valid-1000-EUR');
  });

  it('an invalid amount is reported through onError', async () => {
    const { component, codeInput, fetchMock, onError, onComplete } = await setup();
    type(codeInput(), 'Valid-1000-EUR');
    await component.submit({ amount: { centAmount: -5, currencyCode: 'EUR' } });
    await component.submit({ amount: { centAmount: 1.5, currencyCode: 'EUR' } });
    expect(onError).toHaveBeenCalledTimes(2);
    expect(onComplete).not.toHaveBeenCalled();
    expect(fetchMock.callsTo('POST', '/redeem')).toHaveLength(0);
  });

  it('calls onGiftCardSubmit and onGiftCardReady', async () => {
    let ready = 0;
    let submitted = 0;
    const { component, codeInput } = await setup({}, {
      onGiftCardReady: async () => void ready++,
      onGiftCardSubmit: async () => void submitted++,
    });
    expect(ready).toBe(1);
    type(codeInput(), 'Valid-1000-EUR');
    await component.submit();
    expect(submitted).toBe(1);
  });

  it('a throwing onComplete does not break the component', async () => {
    const { component, codeInput, fetchMock } = await setup({ onComplete: () => { throw new Error('shop bug'); } });
    const original = console.error;
    console.error = () => {};
    try {
      type(codeInput(), 'Valid-1000-EUR');
      await component.submit();
      type(codeInput(), 'Valid-1000-EUR');
      await component.submit();
    } finally {
      console.error = original;
    }
    expect(fetchMock.callsTo('POST', '/redeem')).toHaveLength(2);
  });
});
