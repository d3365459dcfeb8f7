// What a demanding checkout expects: busy state, what happens after an apply, the PIN field,
// the Idempotency-Key of each submit, and the shop's mistakes kept away from the shopper.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { translations } from '../src/i18n';
import { cardError, pressEnter, setup, type, valid, type Handler, type Reply } from './helpers';

afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = '';
});

const live = (container: HTMLElement) => container.querySelector<HTMLElement>('[data-testid=giftcard-live]')!;
const feedback = (container: HTMLElement) => container.querySelector<HTMLElement>('[data-testid=giftcard-feedback]')!;
const withPin = { 'GET /enabler/config': { status: 200, body: { pinRequired: false, pinSupported: true } } };

/** A route that waits for `release()` before answering. */
function gated(reply: Reply) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const handler: Handler = async () => {
    await gate;
    return reply;
  };
  return { release, handler };
}

describe('busy state', () => {
  it('a slow balance check disables the fields, shows a spinner and aria-busy, then gives the focus back', async () => {
    const slow = gated(valid(1000));
    const m = await setup({ locale: 'de' }, {}, { ...withPin, 'POST /balance': slow.handler });
    const root = m.container.querySelector<HTMLElement>('.ctgc-root')!;
    type(m.codeInput(), 'Valid-1000-EUR');
    m.codeInput().focus();
    pressEnter(m.codeInput());
    await Promise.resolve();
    expect(root.getAttribute('aria-busy')).toBe('true');
    expect(m.codeInput().disabled).toBe(true);
    expect(m.pinInput()!.disabled).toBe(true);
    expect(m.container.querySelector<HTMLButtonElement>('[data-testid=giftcard-pin-toggle]')!.disabled).toBe(true);
    expect(feedback(m.container).querySelector('.ctgc-spinner')).not.toBeNull();
    expect(feedback(m.container).textContent).toBe(translations.de!.checking);
    slow.release();
    await m.component.balance();
    await new Promise((r) => setTimeout(r, 0));
    expect(root.hasAttribute('aria-busy')).toBe(false);
    expect(m.codeInput().disabled).toBe(false);
    expect(feedback(m.container).querySelector('.ctgc-spinner')).toBeNull();
    expect(document.activeElement).toBe(m.codeInput()); // the keyboard user is where they were
  });

  it('submit() is busy ("applying") until the redemption answers', async () => {
    const slow = gated({ status: 200, body: { result: 'Success', paymentReference: 'p' } });
    const m = await setup({}, {}, { 'POST /redeem': slow.handler });
    type(m.codeInput(), 'Valid-1000-EUR');
    const done = m.component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(m.codeInput().disabled).toBe(true);
    expect(feedback(m.container).textContent).toBe(translations.en!.applying);
    slow.release();
    await done;
    expect(m.codeInput().disabled).toBe(false);
  });
});

describe('after a successful apply', () => {
  it('clears the fields, shows and announces the amount and what is left, focuses the card field', async () => {
    const onChange = vi.fn();
    const m = await setup({ locale: 'de' }, { onChange }, withPin);
    type(m.codeInput(), 'Valid-5000-EUR');
    type(m.pinInput()!, '1234');
    m.pinInput()!.focus();
    await m.component.submit({ amount: { centAmount: 2000, currencyCode: 'EUR' } });
    expect(m.codeInput().value).toBe('');
    expect(m.pinInput()!.value).toBe('');
    const text = feedback(m.container).textContent!;
    expect(text).toMatch(/^20,00\s€ eingelöst\. Restguthaben auf der Karte: 30,00\s€\.$/);
    expect(feedback(m.container).classList.contains('ctgc-feedback--success')).toBe(true);
    expect(live(m.container).textContent).toBe(text);
    expect(document.activeElement).toBe(m.codeInput());
    expect(onChange).toHaveBeenLastCalledWith(false);
    expect(m.onComplete).toHaveBeenCalledWith(
      expect.objectContaining({ remainingBalance: { centAmount: 3000, currencyCode: 'EUR' } }),
    );
  });

  it('typing again removes the success line', async () => {
    const m = await setup();
    type(m.codeInput(), 'Valid-5000-EUR');
    await m.component.submit();
    expect(feedback(m.container).textContent).not.toBe('');
    type(m.codeInput(), 'x');
    expect(feedback(m.container).textContent).toBe('');
  });
});

describe('PIN field', () => {
  it('is masked, numeric, not autocompleted, and has a show/hide toggle', async () => {
    const m = await setup({ locale: 'fr' }, {}, withPin);
    const pin = m.pinInput()!;
    expect(pin.type).toBe('password');
    expect(pin.getAttribute('inputmode')).toBe('numeric');
    expect(pin.getAttribute('autocomplete')).toBe('off');
    const toggle = m.container.querySelector<HTMLButtonElement>('[data-testid=giftcard-pin-toggle]')!;
    expect(toggle.type).toBe('button'); // never submits the shop's form
    expect(toggle.getAttribute('aria-controls')).toBe(pin.id);
    expect(toggle.getAttribute('aria-pressed')).toBe('false');
    expect(toggle.textContent).toBe(translations.fr!.showPin);
    toggle.click();
    expect(pin.type).toBe('text');
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(toggle.textContent).toBe(translations.fr!.hidePin);
    toggle.click();
    expect(pin.type).toBe('password');
  });

  it('an unknown card with the optional PIN left empty names the PIN', async () => {
    const m = await setup({ locale: 'de' }, {}, withPin);
    type(m.codeInput(), 'NotFound');
    const result = await m.component.balance();
    expect(result.status.state).toBe('NotFound');
    expect(m.codeError().textContent).toBe(translations.de!.notFoundPinHint);
    expect(m.codeError().textContent).toContain('PIN');
    expect(live(m.container).textContent).toBe(translations.de!.notFoundPinHint);
  });

  it('a typed PIN that does not match says no more than an unknown card', async () => {
    const m = await setup({ locale: 'de' }, {}, withPin);
    type(m.codeInput(), 'NotFound');
    type(m.pinInput()!, '9999');
    await m.component.balance();
    expect(m.codeError().textContent).toBe(translations.de!.NotFound);
    expect(m.codeError().textContent).not.toContain('PIN');
  });

  it('without a PIN field, an unknown card gets the plain message', async () => {
    const m = await setup({ locale: 'en' });
    type(m.codeInput(), 'NotFound');
    await m.component.balance();
    expect(m.codeError().textContent).toBe(translations.en!.NotFound);
  });
});

describe('one live region', () => {
  it('announces each error, also the same error twice in a row', async () => {
    const m = await setup({ locale: 'en' });
    type(m.codeInput(), 'Expired');
    await m.component.balance();
    const first = live(m.container).textContent;
    expect(first).toBe(translations.en!.Expired);
    await m.component.balance();
    expect(live(m.container).textContent).not.toBe(first); // changed, so read again
    expect(live(m.container).textContent!.trim()).toBe(translations.en!.Expired);
  });
});

describe('Idempotency-Key', () => {
  it('each submit() sends a fresh key', async () => {
    const m = await setup();
    type(m.codeInput(), 'Valid-5000-EUR');
    await m.component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    type(m.codeInput(), 'Valid-5000-EUR');
    await m.component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    const keys = m.fetchMock.callsTo('POST', '/redeem').map((c) => c.headers.get('Idempotency-Key'));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it('a lost answer and a 503 are retried under the same key; the first redemption\'s answer wins', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const answers: Reply[] = [
      new TypeError('connection reset'),
      { status: 503, body: { status: { state: 'GenericError', errors: [{ code: 'GenericError', message: 'submit again' }] } } },
      { status: 200, body: { result: 'Success', paymentReference: 'p-1' } },
    ];
    const m = await setup({}, {}, { 'POST /redeem': () => answers.shift()! });
    type(m.codeInput(), 'Valid-5000-EUR');
    const done = m.component.submit({ amount: { centAmount: 100, currencyCode: 'EUR' } });
    await vi.runAllTimersAsync();
    await done;
    const keys = m.fetchMock.callsTo('POST', '/redeem').map((c) => c.headers.get('Idempotency-Key'));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(m.onComplete).toHaveBeenCalledWith(expect.objectContaining({ isSuccess: true, paymentReference: 'p-1' }));
  });

  it('after an unknown outcome, submitting the same card and amount again reuses the key', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let down = true;
    const m = await setup({ locale: 'en' }, {}, {
      'POST /redeem': () => (down ? { status: 503, text: '' } : { status: 200, body: { result: 'Success', paymentReference: 'p' } }),
    });
    type(m.codeInput(), 'Valid-5000-EUR');
    let done = m.component.submit({ amount: { centAmount: 700, currencyCode: 'EUR' } });
    await vi.runAllTimersAsync();
    await done;
    expect(m.codeError().textContent).toBe(translations.en!.unconfirmed);
    expect(m.onError).toHaveBeenCalledTimes(1);
    down = false;
    done = m.component.submit({ amount: { centAmount: 700, currencyCode: 'EUR' } });
    await vi.runAllTimersAsync();
    await done;
    const calls = m.fetchMock.callsTo('POST', '/redeem');
    expect(calls).toHaveLength(4); // 3 tries, then the shopper's repeat
    expect(new Set(calls.map((c) => c.headers.get('Idempotency-Key'))).size).toBe(1);
    expect(calls[3]!.body).toEqual(calls[0]!.body);
    expect(m.fetchMock.callsTo('POST', '/balance')).toHaveLength(1); // the repeat is the same redemption

    type(m.codeInput(), 'Valid-5000-EUR');
    done = m.component.submit({ amount: { centAmount: 700, currencyCode: 'EUR' } });
    await vi.runAllTimersAsync();
    await done;
    const last = m.fetchMock.callsTo('POST', '/redeem').at(-1)!;
    expect(last.headers.get('Idempotency-Key')).not.toBe(calls[0]!.headers.get('Idempotency-Key')); // settled: new
  });

  it('a card refusal is not retried', async () => {
    const m = await setup({}, {}, { 'POST /redeem': cardError('Expired') });
    type(m.codeInput(), 'Valid-5000-EUR');
    await m.component.submit();
    expect(m.fetchMock.callsTo('POST', '/redeem')).toHaveLength(1);
  });
});

describe('config call and options', () => {
  it('GET /enabler/config carries the session header and needs no provider name', async () => {
    const m = await setup({}, {}, { 'GET /enabler/config': { status: 200, body: { pinRequired: false, pinSupported: true } } });
    const [config] = m.fetchMock.callsTo('GET', '/enabler/config');
    expect(config!.headers.get('X-Session-Id')).toBe('session-123');
    expect(m.pinInput()).not.toBeNull();
  });

  it('a callback option that is not a function rejects createGiftCardBuilder()', async () => {
    await expect(setup({ onComplete: 'yes' as unknown as () => void })).rejects.toThrow(/onComplete/);
  });
});
