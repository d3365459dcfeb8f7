import { afterEach, describe, expect, it } from 'vitest';
import { format, translations } from '../src/i18n';
import { pressEnter, setup, type } from './helpers';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('PIN field from GET /enabler/config', () => {
  it('no PIN field when the config says pinRequired: false', async () => {
    const { pinInput, container, component, codeInput, fetchMock } = await setup();
    expect(pinInput()).toBeNull();
    expect(container.querySelectorAll('input')).toHaveLength(1);
    type(codeInput(), 'Valid-100-EUR');
    await component.submit();
    expect(fetchMock.callsTo('POST', '/redeem')[0]!.body).not.toHaveProperty('pin');
  });

  it('no PIN field when the config route is missing (404, older Processor)', async () => {
    const { pinInput } = await setup({}, {}, { 'GET /enabler/config': { status: 404, body: { message: 'Not Found' } } });
    expect(pinInput()).toBeNull();
  });

  it('a required PIN field with label, aria-required and maxlength when pinRequired: true', async () => {
    const { pinInput, container } = await setup({ locale: 'de' }, {}, {
      'GET /enabler/config': { status: 200, body: { pinRequired: true, pinLength: 4 } },
    });
    const pin = pinInput()!;
    expect(pin).not.toBeNull();
    expect(pin.getAttribute('aria-required')).toBe('true');
    expect(pin.maxLength).toBe(4);
    const label = container.querySelector(`label[for="${pin.id}"]`)!;
    expect(label.textContent).toBe(translations.de!.pinLabel);
  });

  it('a missing PIN is not sent and shows "PIN required" beside the PIN field', async () => {
    const { component, codeInput, pinInput, pinError, codeError, fetchMock } = await setup({ locale: 'fr' }, {}, {
      'GET /enabler/config': { status: 200, body: { pinRequired: true } },
    });
    type(codeInput(), 'Valid-100-EUR');
    const result = await component.balance();
    expect(result.status.state).toBe('GenericError');
    expect(pinError().textContent).toBe(translations.fr!.pinRequired);
    expect(pinInput()!.getAttribute('aria-invalid')).toBe('true');
    expect(codeError().textContent).toBe('');
    expect(fetchMock.callsTo('POST', '/balance')).toHaveLength(0);
  });

  it('a PIN of the wrong length is refused locally', async () => {
    const { component, codeInput, pinInput, pinError, fetchMock } = await setup({ locale: 'en' }, {}, {
      'GET /enabler/config': { status: 200, body: { pinRequired: true, pinLength: 4 } },
    });
    type(codeInput(), 'Valid-100-EUR');
    type(pinInput()!, '12');
    await component.balance();
    expect(pinError().textContent).toBe(format(translations.en!.pinLength, { n: 4 }));
    expect(pinError().textContent).toContain('4');
    expect(fetchMock.callsTo('POST', '/balance')).toHaveLength(0);
  });

  it('the PIN travels in the /balance and /redeem bodies; Enter in the PIN field checks the balance', async () => {
    const { component, codeInput, pinInput, fetchMock } = await setup({}, {}, {
      'GET /enabler/config': { status: 200, body: { pinRequired: true } },
    });
    type(codeInput(), 'Valid-100-EUR');
    type(pinInput()!, '1234');
    pressEnter(pinInput()!);
    await component.submit();
    expect(fetchMock.callsTo('POST', '/balance')).toHaveLength(1);
    expect(fetchMock.callsTo('POST', '/balance')[0]!.body).toEqual({ code: 'Valid-100-EUR', pin: '1234' });
    expect(fetchMock.callsTo('POST', '/redeem')[0]!.body).toEqual({
      code: 'Valid-100-EUR',
      pin: '1234',
      redeemAmount: { centAmount: 100, currencyCode: 'EUR' },
    });
  });

  it('pinSupported: true shows an optional PIN field that may stay empty', async () => {
    const { component, codeInput, pinInput, container, fetchMock } = await setup({ locale: 'nl' }, {}, {
      'GET /enabler/config': { status: 200, body: { pinRequired: false, pinSupported: true } },
    });
    const pin = pinInput()!;
    expect(pin.hasAttribute('aria-required')).toBe(false);
    expect(container.querySelector(`label[for="${pin.id}"]`)!.textContent).toContain(translations.nl!.optional);
    type(codeInput(), 'Valid-100-EUR');
    const result = await component.balance();
    expect(result.status.state).toBe('Valid');
    expect(fetchMock.callsTo('POST', '/balance')[0]!.body).toEqual({ code: 'Valid-100-EUR' });
  });

  it('a Processor config answer outside the contract fails setup', async () => {
    await expect(
      setup({}, {}, { 'GET /enabler/config': { status: 200, body: { pinRequired: 'yes' } } }),
    ).rejects.toBeInstanceOf(Error);
  });
});
