export { Enabler } from './enabler';
export type {
  Amount,
  BalanceError,
  BalanceState,
  BalanceType,
  EnablerConfig,
  EnablerOptions,
  GiftCardBuilder,
  GiftCardComponent,
  GiftCardEnabler,
  GiftCardOptions,
  PaymentResult,
  SubmitAmount,
} from './types';
