/*! commercetools gift card connector: Enabler types. Generated from enabler/src by `npm run build`; do not edit. */
/**
 * Public types of the gift card Enabler (specification "API Reference > Enabler", contract section 8).
 */
/** Money in the currency's minor unit (cents for EUR, yen for JPY, fils for KWD). */
export type Amount = {
	centAmount: number;
	currencyCode: string;
};
/** The six outcomes of a balance check. */
export type BalanceState = "Valid" | "NotFound" | "Expired" | "CurrencyNotMatch" | "ZeroBalance" | "GenericError";
export type BalanceError = {
	code: string;
	message: string;
};
export type BalanceType = {
	status: {
		state: BalanceState;
		errors?: BalanceError[];
	};
	amount?: Amount;
};
export type PaymentResult = {
	/** A real boolean (the template passes the Processor's result string). */
	isSuccess: boolean;
	/** The commercetools payment id, when a payment was created. */
	paymentReference?: string;
	/** On success: the amount taken from the card. */
	amount?: Amount;
	/** On success: what the card still holds (its balance before, minus `amount`). */
	remainingBalance?: Amount;
};
export type EnablerOptions = {
	/** Base URL of the Processor, with or without a trailing slash. */
	processorUrl: string;
	/** commercetools Checkout session id; sent as the `X-Session-Id` header. */
	sessionId: string;
	/** e.g. `en`, `de`, `de-DE`; unknown locales fall back to English. */
	locale?: string;
	/** Called once per `submit()` with the outcome of the redemption. */
	onComplete?: (result: PaymentResult) => void;
	/**
	 * Called when the Processor cannot be reached or answers outside the contract, and for a shop's
	 * mistakes (an amount in another currency than the card's, a malformed amount): those are logged to
	 * the console as well and never shown to the shopper as a card problem.
	 */
	onError?: (error: unknown) => void;
};
export type GiftCardOptions = {
	/** Invoked when the component has been rendered and can be interacted with. */
	onGiftCardReady?: () => Promise<void> | void;
	/** Invoked when a redemption starts (`submit()`). */
	onGiftCardSubmit?: () => Promise<void> | void;
	/** Invoked on every edit; `isDirty` is true while a card number (or PIN) is entered. */
	onChange?: (isDirty: boolean) => void;
	/** Template name: invoked on every edit with whether the card number field has a value. */
	onValueChange?: (hasValue: boolean) => void | Promise<void>;
	/** Template name: invoked when Enter is pressed in a field (the balance check runs as well). */
	onEnter?: () => void | Promise<void>;
};
/** Amount accepted by `submit()`; `currency` is the specification's (misprinted) alias of `currencyCode`. */
export type SubmitAmount = {
	centAmount: number;
	currencyCode?: string;
	currency?: string;
};
export interface GiftCardComponent {
	/** Checks the balance of the entered card; resolves for every gift card state, shows its message. */
	balance(): Promise<BalanceType>;
	/** Redeems at most `amount` (the card's balance when omitted); the outcome goes to onComplete/onError. */
	submit(opts?: {
		amount?: SubmitAmount;
	}): Promise<void>;
	/** Renders the fields into the element (or the first element matching the selector). */
	mount(selector: string | HTMLElement): void;
}
export interface GiftCardBuilder {
	build(config?: GiftCardOptions): GiftCardComponent;
}
export interface GiftCardEnabler {
	createGiftCardBuilder(): Promise<GiftCardBuilder>;
}
/** Answer of `GET {processorUrl}/enabler/config`. */
export type EnablerConfig = {
	/** The provider's cards carry a PIN the shopper must type: the PIN field is shown and required. */
	pinRequired: boolean;
	/** Exact length of a PIN, when the provider has a fixed one. */
	pinLength?: number;
	/** Show the PIN field as optional even though `pinRequired` is false (cards with and without PIN). */
	pinSupported?: boolean;
};
/**
 * Entry point loaded by commercetools Checkout:
 * `const builder = await new Enabler({processorUrl, sessionId}).createGiftCardBuilder()`.
 */
export declare class Enabler implements GiftCardEnabler {
	private readonly options;
	constructor(options: EnablerOptions);
	createGiftCardBuilder(): Promise<GiftCardBuilder>;
}

export as namespace Connector;
