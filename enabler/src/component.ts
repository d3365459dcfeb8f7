import { newIdempotencyKey, ProcessorClient, ProcessorError } from './api';
import { format, type MessageKey, type Messages } from './i18n';
import { formatAmount } from './money';
import { injectStyles, PREFIX, ROOT_CLASS } from './styles';
import type {
  Amount,
  BalanceType,
  EnablerConfig,
  EnablerOptions,
  GiftCardBuilder,
  GiftCardComponent,
  GiftCardOptions,
  PaymentResult,
  SubmitAmount,
} from './types';

type FieldKind = 'code' | 'pin';

type Field = {
  wrapper: HTMLElement;
  input: HTMLInputElement;
  error: HTMLElement;
  /** The PIN's show/hide button. */
  toggle?: HTMLButtonElement;
};

type Busy = 'checking' | 'applying';

export type ComponentContext = {
  client: ProcessorClient;
  messages: Messages;
  /** Resolved language of `messages` (`en`, `de`, ...). */
  locale: string;
  config: EnablerConfig;
  enablerOptions: EnablerOptions;
};

/** A redemption whose outcome is unknown: submitting the same card and amount again reuses its key. */
type Unsettled = { request: string; amount: Amount; key: string };

let instanceCount = 0;

/** Runs a shop callback; a throwing or rejecting callback never breaks the component. */
function safeCall<A extends unknown[]>(fn: ((...args: A) => unknown) | undefined, ...args: A): Promise<void> {
  if (typeof fn !== 'function') return Promise.resolve();
  try {
    return Promise.resolve(fn(...args)).then(
      () => undefined,
      (error: unknown) => logCallbackError(error),
    );
  } catch (error) {
    logCallbackError(error);
    return Promise.resolve();
  }
}

function logCallbackError(error: unknown): void {
  if (typeof console !== 'undefined') console.error('[giftcard enabler] callback failed', error);
}

function localError(code: string, message: string): BalanceType {
  return { status: { state: 'GenericError', errors: [{ code, message }] } };
}

export class GiftCardFormBuilder implements GiftCardBuilder {
  constructor(private readonly context: ComponentContext) {}

  build(config: GiftCardOptions = {}): GiftCardComponent {
    return new GiftCardForm(this.context, config ?? {});
  }
}

export class GiftCardForm implements GiftCardComponent {
  private readonly instance = ++instanceCount;
  private root?: HTMLElement;
  private code?: Field;
  private pin?: Field;
  /** Visible progress and success line (spinner while busy). */
  private feedback?: HTMLElement;
  /** The one live region: every error and success is announced here, once. */
  private live?: HTMLElement;
  private cachedBalance?: { key: string; result: BalanceType };
  private pendingBalance?: { key: string; promise: Promise<BalanceType> };
  private unsettled?: Unsettled;
  private submitting = false;
  private busy?: Busy;
  private focusAfterBusy?: HTMLElement;
  private readonly reported = new WeakSet<object>();

  constructor(
    private readonly context: ComponentContext,
    private readonly options: GiftCardOptions,
  ) {}

  /** Whether the PIN field is rendered. */
  get hasPinField(): boolean {
    return this.context.config.pinRequired || this.context.config.pinSupported === true;
  }

  mount(selector: string | HTMLElement): void {
    const container =
      typeof selector === 'string' ? document.querySelector<HTMLElement>(selector) : selector;
    if (!container || typeof (container as HTMLElement).appendChild !== 'function') {
      throw new Error(`Gift card enabler: no element to mount into (${String(selector)})`);
    }
    const doc = container.ownerDocument;
    if (this.root) {
      container.appendChild(this.root);
      return;
    }
    injectStyles(doc);
    const { messages } = this.context;
    const root = doc.createElement('div');
    root.className = ROOT_CLASS;
    root.setAttribute('data-ctgc-component', 'giftcard');
    root.setAttribute('lang', this.context.locale);
    this.code = this.createField(doc, 'code', messages.codeLabel, messages.codePlaceholder, true);
    root.appendChild(this.code.wrapper);
    if (this.hasPinField) {
      this.pin = this.createField(
        doc,
        'pin',
        messages.pinLabel,
        messages.pinPlaceholder,
        this.context.config.pinRequired,
      );
      if (this.context.config.pinLength) {
        this.pin.input.maxLength = this.context.config.pinLength;
      }
      root.appendChild(this.pin.wrapper);
    }
    const feedback = doc.createElement('div');
    feedback.className = `${PREFIX}-feedback`;
    feedback.setAttribute('data-testid', 'giftcard-feedback');
    feedback.setAttribute('aria-hidden', 'true'); // the live region says it; no double reading
    const live = doc.createElement('div');
    live.className = `${PREFIX}-live`;
    live.setAttribute('role', 'status');
    live.setAttribute('aria-atomic', 'true');
    live.setAttribute('data-testid', 'giftcard-live');
    root.append(feedback, live);
    this.feedback = feedback;
    this.live = live;
    this.root = root;
    container.appendChild(root);
    void safeCall(this.options.onGiftCardReady);
  }

  balance(): Promise<BalanceType> {
    return this.checkBalance().catch((error: unknown) => {
      this.reportError(error);
      throw error;
    });
  }

  async submit(opts: { amount?: SubmitAmount } = {}): Promise<void> {
    if (this.submitting) return;
    this.submitting = true;
    this.setBusy('applying');
    let succeeded = false;
    try {
      await safeCall(this.options.onGiftCardSubmit);
      const requested = opts?.amount;
      let wanted: { centAmount: number; currencyCode?: string } | undefined;
      if (requested !== undefined && requested !== null) {
        const currencyCode = requested.currencyCode ?? requested.currency;
        if (
          typeof requested.centAmount !== 'number' ||
          !Number.isInteger(requested.centAmount) ||
          requested.centAmount <= 0 ||
          (currencyCode !== undefined && typeof currencyCode !== 'string')
        ) {
          this.reportMistake('submit() needs amount.centAmount as a positive integer (minor units)');
          return;
        }
        wanted = { centAmount: requested.centAmount, currencyCode };
      }
      const { code, pin, key } = this.values();
      const request = JSON.stringify([key, wanted ?? null]);
      // The same card and amount after an unknown outcome: the same redemption, sent again as it was.
      const repeat = this.unsettled?.request === request ? this.unsettled : undefined;
      let amount: Amount;
      let available: Amount | undefined;
      if (repeat) {
        if (this.validate(code, pin)) {
          this.complete({ isSuccess: false });
          return;
        }
        amount = repeat.amount;
      } else {
        let balance: BalanceType;
        if (this.cachedBalance && this.cachedBalance.key === key) {
          balance = this.cachedBalance.result;
        } else {
          try {
            balance = await this.checkBalance();
          } catch (error) {
            this.reportError(error);
            return;
          }
        }
        if (balance.status.state !== 'Valid' || !balance.amount) {
          this.complete({ isSuccess: false });
          return;
        }
        available = balance.amount;
        if (wanted?.currencyCode !== undefined && wanted.currencyCode !== available.currencyCode) {
          // The card matches the cart (the Processor checked): the shop passed a wrong currency.
          this.reportMistake(
            `submit() amount is in ${wanted.currencyCode}, but the card and cart are in ${available.currencyCode}`,
          );
          return;
        }
        const centAmount = wanted ? Math.min(wanted.centAmount, available.centAmount) : available.centAmount;
        amount = { centAmount, currencyCode: available.currencyCode };
      }
      const idempotencyKey = repeat?.key ?? newIdempotencyKey();
      let outcome;
      try {
        outcome = await this.context.client.redeem(code, pin, amount, idempotencyKey);
      } catch (error) {
        const unknown = error instanceof ProcessorError && error.unknownOutcome;
        this.unsettled = unknown ? { request, amount, key: idempotencyKey } : undefined;
        this.showError('code', unknown ? this.context.messages.unconfirmed : this.context.messages.unreachable, false);
        this.reportError(error);
        return;
      } finally {
        this.cachedBalance = undefined;
      }
      this.unsettled = undefined;
      if (outcome.kind === 'result') {
        const result: PaymentResult = { isSuccess: outcome.isSuccess };
        if (outcome.paymentReference) result.paymentReference = outcome.paymentReference;
        if (outcome.isSuccess) {
          result.amount = amount;
          if (available) {
            result.remainingBalance = {
              centAmount: available.centAmount - amount.centAmount,
              currencyCode: amount.currencyCode,
            };
          }
          this.applied(result);
          succeeded = true;
        } else {
          this.showError('code', this.context.messages.redemptionFailed, false);
        }
        this.complete(result);
      } else if (outcome.kind === 'cardError') {
        this.showBalanceError(outcome.balance, pin);
        this.complete({ isSuccess: false });
      } else {
        // A 400 that is not about the card (e.g. more than the cart owes): the shop's request was wrong.
        this.showError('code', this.context.messages.redemptionFailed, false);
        this.reportMistake(`POST /redeem was refused (HTTP ${outcome.status})`, outcome.body);
      }
    } finally {
      this.submitting = false;
      this.setBusy(undefined, succeeded ? this.code?.input : undefined);
    }
  }

  // --- internals -------------------------------------------------------------------------------

  private uniqueId(doc: Document, base: string): string {
    let id = this.instance === 1 ? base : `${base}-${this.instance}`;
    let n = this.instance;
    while (doc.getElementById(id)) id = `${base}-${++n}`;
    return id;
  }

  private createField(
    doc: Document,
    kind: FieldKind,
    labelText: string,
    placeholder: string,
    required: boolean,
  ): Field {
    const inputId = this.uniqueId(doc, `${PREFIX}-giftcard-${kind}`);
    const errorId = `${inputId}-error`;

    const wrapper = doc.createElement('div');
    wrapper.className = `${PREFIX}-field ${PREFIX}-field--${kind}`;

    const label = doc.createElement('label');
    label.className = `${PREFIX}-label`;
    label.htmlFor = inputId;
    label.textContent = labelText;
    if (!required) {
      const optional = doc.createElement('span');
      optional.className = `${PREFIX}-optional`;
      optional.textContent = this.context.messages.optional;
      label.appendChild(optional);
    }

    const input = doc.createElement('input');
    input.className = `${PREFIX}-input`;
    input.id = inputId;
    input.name = `giftcard-${kind}`;
    input.type = kind === 'pin' ? 'password' : 'text';
    input.autocomplete = 'off';
    input.spellcheck = false;
    input.placeholder = placeholder;
    input.setAttribute('autocapitalize', 'off');
    if (kind === 'pin') input.setAttribute('inputmode', 'numeric');
    input.setAttribute('data-testid', `giftcard-${kind}`);
    input.setAttribute('aria-describedby', errorId);
    if (required) input.setAttribute('aria-required', 'true');

    // Plain text linked by aria-describedby; announcing is the live region's job (one pattern).
    const error = doc.createElement('div');
    error.className = `${PREFIX}-error`;
    error.id = errorId;
    error.setAttribute('data-testid', `giftcard-${kind}-error`);

    input.addEventListener('input', () => this.onInput());
    input.addEventListener('keydown', (event) => this.onKeyDown(event));

    const control = doc.createElement('div');
    control.className = `${PREFIX}-control`;
    control.appendChild(input);
    let toggle: HTMLButtonElement | undefined;
    if (kind === 'pin') {
      toggle = this.createPinToggle(doc, input);
      control.appendChild(toggle);
    }
    wrapper.append(label, control, error);
    return toggle ? { wrapper, input, error, toggle } : { wrapper, input, error };
  }

  private createPinToggle(doc: Document, input: HTMLInputElement): HTMLButtonElement {
    const { messages } = this.context;
    const toggle = doc.createElement('button');
    toggle.type = 'button';
    toggle.className = `${PREFIX}-toggle`;
    toggle.textContent = messages.showPin;
    toggle.setAttribute('aria-controls', input.id);
    toggle.setAttribute('aria-pressed', 'false');
    toggle.setAttribute('data-testid', 'giftcard-pin-toggle');
    toggle.addEventListener('click', () => {
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      toggle.setAttribute('aria-pressed', String(show));
      toggle.textContent = show ? messages.hidePin : messages.showPin;
    });
    return toggle;
  }

  private onInput(): void {
    this.clearErrors();
    this.setFeedback('');
    this.cachedBalance = undefined;
    const { code, pin } = this.values();
    this.notifyChange(code !== '', (pin ?? '') !== '');
  }

  private notifyChange(hasCode: boolean, hasPin: boolean): void {
    if (typeof this.options.onChange === 'function') {
      void safeCall(this.options.onChange, hasCode || hasPin);
    }
    void safeCall(this.options.onValueChange, hasCode);
  }

  private onKeyDown(event: KeyboardEvent): void {
    if (event.key !== 'Enter' || event.isComposing) return;
    event.preventDefault();
    this.checkBalance().catch((error: unknown) => this.reportError(error));
    void safeCall(this.options.onEnter);
  }

  private values(): { code: string; pin: string | undefined; key: string } {
    const code = (this.code?.input.value ?? '').trim();
    const pin = this.pin ? this.pin.input.value.trim() : undefined;
    return { code, pin, key: JSON.stringify([code, pin ?? null]) };
  }

  /** Client-side checks; shows the message and returns a result when the input cannot be sent. */
  private validate(code: string, pin: string | undefined): BalanceType | undefined {
    const { messages, config } = this.context;
    if (code === '') {
      this.showError('code', messages.codeRequired, true);
      return localError('RequiredField', messages.codeRequired);
    }
    if (this.pin && config.pinRequired && (pin ?? '') === '') {
      this.showError('pin', messages.pinRequired, true);
      return localError('RequiredField', messages.pinRequired);
    }
    if (this.pin && pin && config.pinLength && pin.length !== config.pinLength) {
      const message = format(messages.pinLength, { n: config.pinLength });
      this.showError('pin', message, true);
      return localError('InvalidField', message);
    }
    return undefined;
  }

  private checkBalance(): Promise<BalanceType> {
    const { code, pin, key } = this.values();
    this.clearErrors();
    if (!this.busy) this.setFeedback('');
    const invalid = this.validate(code, pin);
    if (invalid) return Promise.resolve(invalid);
    if (this.pendingBalance && this.pendingBalance.key === key) return this.pendingBalance.promise;

    const entry = { key } as { key: string; promise: Promise<BalanceType> };
    entry.promise = this.fetchBalance(entry, code, pin);
    this.pendingBalance = entry;
    return entry.promise;
  }

  private async fetchBalance(
    entry: { key: string },
    code: string,
    pin: string | undefined,
  ): Promise<BalanceType> {
    const { key } = entry;
    if (!this.submitting) this.setBusy('checking');
    try {
      let result: BalanceType;
      try {
        result = await this.context.client.balance(code, pin);
      } catch (error) {
        if (this.values().key === key) this.showError('code', this.context.messages.unreachable, false);
        throw error;
      }
      if (this.values().key === key) {
        if (result.status.state === 'Valid') {
          this.clearErrors();
          this.cachedBalance = { key, result };
        } else {
          this.showBalanceError(result, pin);
        }
      }
      return result;
    } finally {
      if (this.pendingBalance === entry) this.pendingBalance = undefined;
      if (!this.submitting) this.setBusy(undefined);
    }
  }

  private showBalanceError(result: BalanceType, pin: string | undefined): void {
    const state = result.status.state;
    // An optional PIN left empty may be why the card is not found; a typed PIN gets the plain
    // NotFound text, so a wrong PIN says no more than an unknown card.
    if (state === 'NotFound' && this.pin && (pin ?? '') === '') {
      this.showError('code', this.context.messages.notFoundPinHint, true);
      return;
    }
    const key: MessageKey = state === 'Valid' ? 'GenericError' : state;
    this.showError('code', this.context.messages[key], true);
  }

  private showError(kind: FieldKind, message: string, invalid: boolean): void {
    const field = kind === 'pin' && this.pin ? this.pin : this.code;
    if (!field) return;
    field.error.textContent = message;
    if (invalid) field.input.setAttribute('aria-invalid', 'true');
    else field.input.removeAttribute('aria-invalid');
    this.root?.classList.add(`${PREFIX}-has-error`);
    this.announce(message);
  }

  private clearErrors(): void {
    for (const field of [this.code, this.pin]) {
      if (!field) continue;
      field.error.textContent = '';
      field.input.removeAttribute('aria-invalid');
    }
    this.root?.classList.remove(`${PREFIX}-has-error`);
  }

  /** After a successful redemption: empty fields, the amount and what is left shown and announced. */
  private applied(result: PaymentResult): void {
    for (const field of [this.code, this.pin]) if (field) field.input.value = '';
    this.clearErrors();
    this.notifyChange(false, false);
    const { messages, locale } = this.context;
    if (result.amount) {
      const text = format(messages.applied, {
        amount: formatAmount(result.amount, locale),
        remaining: result.remainingBalance ? formatAmount(result.remainingBalance, locale) : '–',
      });
      this.setFeedback(text, 'success');
      this.announce(text);
    }
  }

  private announce(text: string): void {
    if (!this.live) return;
    // The same words twice in a row are announced again only if the region's text changes.
    this.live.textContent = this.live.textContent === text ? `${text}\u00a0` : text;
  }

  private setFeedback(text: string, kind?: 'busy' | 'success'): void {
    const feedback = this.feedback;
    if (!feedback) return;
    feedback.className = kind ? `${PREFIX}-feedback ${PREFIX}-feedback--${kind}` : `${PREFIX}-feedback`;
    feedback.replaceChildren();
    if (kind === 'busy') {
      const spinner = feedback.ownerDocument.createElement('span');
      spinner.className = `${PREFIX}-spinner`;
      feedback.appendChild(spinner);
    }
    if (text) feedback.append(text);
  }

  /**
   * Busy: spinner, fields and PIN toggle disabled, `aria-busy`. Disabling the focused field drops the
   * focus to <body>; when the work ends the focus goes back there (or to `focusTarget`).
   */
  private setBusy(busy: Busy | undefined, focusTarget?: HTMLElement): void {
    const root = this.root;
    if (!root) return;
    const doc = root.ownerDocument;
    if (busy) {
      const active = doc.activeElement;
      if (!this.busy && active && root.contains(active)) this.focusAfterBusy = active as HTMLElement;
      this.busy = busy;
      root.setAttribute('aria-busy', 'true');
      root.classList.add(`${PREFIX}-busy`);
      this.setFeedback(busy === 'checking' ? this.context.messages.checking : this.context.messages.applying, 'busy');
    } else {
      this.busy = undefined;
      root.removeAttribute('aria-busy');
      root.classList.remove(`${PREFIX}-busy`);
      if (this.feedback?.classList.contains(`${PREFIX}-feedback--busy`)) this.setFeedback('');
    }
    for (const field of [this.code, this.pin]) {
      if (!field) continue;
      field.input.disabled = busy !== undefined;
      if (field.toggle) field.toggle.disabled = busy !== undefined;
    }
    if (!busy) {
      const target = focusTarget ?? this.focusAfterBusy;
      this.focusAfterBusy = undefined;
      const active = doc.activeElement;
      const lost = !active || active === doc.body || root.contains(active);
      if (target && lost) target.focus();
    }
  }

  private complete(result: PaymentResult): void {
    void safeCall(this.context.enablerOptions.onComplete, result);
  }

  /** The shop's mistake, not the card's: to the developer (console and onError), never to the shopper. */
  private reportMistake(message: string, detail?: unknown): void {
    const error = new Error(`Gift card enabler: ${message}`);
    if (detail !== undefined) (error as { cause?: unknown }).cause = detail;
    if (typeof console !== 'undefined') console.error(error.message, detail ?? '');
    this.reportError(error);
  }

  private reportError(error: unknown): void {
    if (typeof error === 'object' && error !== null) {
      if (this.reported.has(error)) return;
      this.reported.add(error);
    }
    void safeCall(this.context.enablerOptions.onError, error);
  }
}
