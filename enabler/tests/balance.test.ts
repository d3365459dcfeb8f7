import { afterEach, describe, expect, it } from 'vitest';
import { translations } from '../src/i18n';
import { cardError, flush, pressEnter, setup, type } from './helpers';

afterEach(() => {
  document.body.innerHTML = '';
});

const ERROR_STATES = [
  ['NotFound', 404],
  ['Expired', 400],
  ['CurrencyNotMatch', 400],
  ['ZeroBalance', 400],
  ['GenericError', 400],
] as const;

describe('balance()', () => {
  it('resolves a Valid balance with its amount and shows no error', async () => {
    const { component, codeInput, codeError, onError } = await setup();
    type(codeInput(), 'Valid-1000-EUR');
    const result = await component.balance();
    expect(result).toEqual({ status: { state: 'Valid' }, amount: { centAmount: 1000, currencyCode: 'EUR' } });
    expect(codeError().textContent).toBe('');
    expect(codeInput().hasAttribute('aria-invalid')).toBe(false);
    expect(onError).not.toHaveBeenCalled();
  });

  for (const locale of ['en', 'de-DE', 'fr', 'nl', 'cs', 'sk', 'ro']) {
    const lang = locale.slice(0, 2);
    for (const [state, status] of ERROR_STATES) {
      it(`${state} (HTTP ${status}) resolves and shows the ${locale} message with aria-invalid`, async () => {
        const { component, codeInput, codeError, onError } = await setup(
          { locale },
          {},
          { 'POST /balance': cardError(state, status) },
        );
        type(codeInput(), 'some-card');
        const result = await component.balance();
        expect(result.status.state).toBe(state);
        expect(result.status.errors).toEqual([{ code: state, message: `provider says ${state}` }]);
        expect(codeError().textContent).toBe(translations[lang]![state]);
        expect(codeInput().getAttribute('aria-invalid')).toBe('true');
        expect(onError).not.toHaveBeenCalled();
      });
    }
  }

  it('the messages differ between locales (really translated)', () => {
    for (const [state] of ERROR_STATES) {
      expect(translations.de![state]).not.toBe(translations.en![state]);
      expect(translations.fr![state]).not.toBe(translations.en![state]);
    }
  });

  it('removes aria-invalid and the message when the user edits the field', async () => {
    const { component, codeInput, codeError } = await setup({ locale: 'de' });
    type(codeInput(), 'Expired');
    await component.balance();
    expect(codeInput().getAttribute('aria-invalid')).toBe('true');
    expect(codeError().textContent).toBe(translations.de!.Expired);
    type(codeInput(), 'Expired2');
    expect(codeInput().hasAttribute('aria-invalid')).toBe(false);
    expect(codeError().textContent).toBe('');
  });

  it('an empty card number is not sent and shows "required"', async () => {
    const { component, codeInput, codeError, fetchMock } = await setup({ locale: 'nl' });
    const result = await component.balance();
    expect(result.status.state).toBe('GenericError');
    expect(result.status.errors?.[0]?.code).toBe('RequiredField');
    expect(codeError().textContent).toBe(translations.nl!.codeRequired);
    expect(codeInput().getAttribute('aria-invalid')).toBe('true');
    expect(fetchMock.callsTo('POST', '/balance')).toHaveLength(0);
  });

  it('sends X-Session-Id and a JSON body', async () => {
    const { component, codeInput, fetchMock } = await setup();
    type(codeInput(), '  Valid-500-EUR ');
    await component.balance();
    const [call] = fetchMock.callsTo('POST', '/balance');
    expect(call!.headers.get('X-Session-Id')).toBe('session-123');
    expect(call!.headers.get('Content-Type')).toBe('application/json');
    expect(call!.body).toEqual({ code: 'Valid-500-EUR' });
    const [config] = fetchMock.callsTo('GET', '/enabler/config');
    expect(config!.headers.get('X-Session-Id')).toBe('session-123');
  });

  it('Enter in the card field runs the balance check and calls onEnter', async () => {
    let enter = 0;
    const { codeInput, codeError, fetchMock } = await setup({ locale: 'fr' }, { onEnter: () => void enter++ });
    type(codeInput(), 'NotFound');
    const event = pressEnter(codeInput());
    expect(event.defaultPrevented).toBe(true);
    await flush();
    await flush();
    expect(enter).toBe(1);
    expect(fetchMock.callsTo('POST', '/balance')).toHaveLength(1);
    expect(codeError().textContent).toBe(translations.fr!.NotFound);
  });

  it('Enter plus a concurrent balance() send one request', async () => {
    const { component, codeInput, fetchMock } = await setup();
    type(codeInput(), 'Valid-100-EUR');
    pressEnter(codeInput());
    const result = await component.balance();
    expect(result.status.state).toBe('Valid');
    expect(fetchMock.callsTo('POST', '/balance')).toHaveLength(1);
  });

  it('onChange(isDirty) and onValueChange(hasValue) fire on input', async () => {
    const changes: boolean[] = [];
    const values: boolean[] = [];
    const { codeInput } = await setup({}, { onChange: (d) => changes.push(d), onValueChange: (v) => void values.push(v) });
    type(codeInput(), 'A');
    type(codeInput(), '');
    expect(changes).toEqual([true, false]);
    expect(values).toEqual([true, false]);
  });
});
