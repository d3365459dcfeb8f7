import type { Amount } from './types';

/** Digits after the decimal point of a currency (2 for EUR, 0 for JPY, 3 for KWD). */
export function fractionDigits(currencyCode: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currencyCode }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** `{centAmount: 2050, currencyCode: 'EUR'}` -> `20,50 €` in `de`; only for display. */
export function formatAmount(amount: Amount, locale: string): string {
  const digits = fractionDigits(amount.currencyCode);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: amount.currencyCode }).format(
      amount.centAmount / 10 ** digits,
    );
  } catch {
    return `${amount.centAmount} ${amount.currencyCode}`;
  }
}
