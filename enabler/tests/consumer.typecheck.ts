// Compiled by `npm run typecheck` only: a shop's code against the shipped connector-enabler.d.ts.
import { Enabler, type BalanceType, type PaymentResult } from '../../src/giftcard_connector/static/enabler/connector-enabler';

export async function shopCheckout(sessionId: string): Promise<BalanceType> {
  const enabler = new Enabler({
    processorUrl: 'https://processor.example',
    sessionId,
    locale: 'de-DE',
    onComplete: (result: PaymentResult) => void result.remainingBalance?.centAmount,
    onError: (error: unknown) => void error,
  });
  const component = (await enabler.createGiftCardBuilder()).build({ onChange: (dirty: boolean) => void dirty });
  component.mount('#giftcard');
  await component.submit({ amount: { centAmount: 1000, currencyCode: 'EUR' } });
  // @ts-expect-error the types catch a shop's mistake: an amount without centAmount
  await component.submit({ amount: { currencyCode: 'EUR' } });
  return component.balance();
}
