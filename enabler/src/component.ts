import { ProcessorClient } from './api';
import { format, type MessageKey, type Messages } from './i18n';
import { injectStyles, PREFIX, ROOT_CLASS } from './styles';
import type {
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
};

export type ComponentContext = {
  client: ProcessorClient;
  messages: Messages;
  /** Resolved language of `messages` (`en`, `de`, ...). */
  locale: string;
  config: EnablerConfig;
  enablerOptions: EnablerOptions;
};

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
  private cachedBalance?: { key: string; result: BalanceType };
  private pendingBalance?: { key: string; promise: Promise<BalanceType> };
  private submitting = false;
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
    this.setBusy(true);
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
          this.reportError(new Error('Gift card enabler: submit() needs a positive integer amount.centAmount'));
          return;
        }
        wanted = { centAmount: requested.centAmount, currencyCode };
      }
      const { code, pin, key } = this.values();
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
      const available = balance.amount;
      if (wanted?.currencyCode !== undefined && wanted.currencyCode !== available.currencyCode) {
        this.showError('code', this.context.messages.CurrencyNotMatch, true);
        this.complete({ isSuccess: false });
        return;
      }
      const centAmount = wanted ? Math.min(wanted.centAmount, available.centAmount) : available.centAmount;
      let outcome;
      try {
        outcome = await this.context.client.redeem(code, pin, {
          centAmount,
          currencyCode: available.currencyCode,
        });
      } catch (error) {
        this.showError('code', this.context.messages.unreachable, false);
        this.reportError(error);
        return;
      } finally {
        this.cachedBalance = undefined;
      }
      if (outcome.kind === 'result') {
        if (outcome.isSuccess) this.clearErrors();
        else this.showError('code', this.context.messages.redemptionFailed, false);
        const result: PaymentResult = { isSuccess: outcome.isSuccess };
        if (outcome.paymentReference) result.paymentReference = outcome.paymentReference;
        this.complete(result);
      } else if (outcome.kind === 'cardError') {
        this.showBalanceError(outcome.balance);
        this.complete({ isSuccess: false });
      } else {
        this.showError('code', this.context.messages.redemptionFailed, true);
        this.complete({ isSuccess: false });
      }
    } finally {
      this.submitting = false;
      this.setBusy(false);
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
    input.type = 'text';
    input.autocomplete = 'off';
    input.spellcheck = false;
    input.placeholder = placeholder;
    input.setAttribute('autocapitalize', 'off');
    input.setAttribute('data-testid', `giftcard-${kind}`);
    input.setAttribute('aria-describedby', errorId);
    if (required) input.setAttribute('aria-required', 'true');

    const error = doc.createElement('div');
    error.className = `${PREFIX}-error`;
    error.id = errorId;
    error.setAttribute('role', 'alert');
    error.setAttribute('aria-live', 'polite');
    error.setAttribute('data-testid', `giftcard-${kind}-error`);

    input.addEventListener('input', () => this.onInput());
    input.addEventListener('keydown', (event) => this.onKeyDown(event));

    wrapper.append(label, input, error);
    return { wrapper, input, error };
  }

  private onInput(): void {
    this.clearErrors();
    this.cachedBalance = undefined;
    const { code, pin } = this.values();
    const hasValue = code !== '';
    if (typeof this.options.onChange === 'function') {
      void safeCall(this.options.onChange, hasValue || (pin ?? '') !== '');
    }
    void safeCall(this.options.onValueChange, hasValue);
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
    this.setBusy(true);
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
          this.showBalanceError(result);
        }
      }
      return result;
    } finally {
      if (this.pendingBalance === entry) this.pendingBalance = undefined;
      if (!this.submitting) this.setBusy(false);
    }
  }

  private showBalanceError(result: BalanceType): void {
    const state = result.status.state;
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
  }

  private clearErrors(): void {
    for (const field of [this.code, this.pin]) {
      if (!field) continue;
      field.error.textContent = '';
      field.input.removeAttribute('aria-invalid');
    }
    this.root?.classList.remove(`${PREFIX}-has-error`);
  }

  private setBusy(busy: boolean): void {
    if (!this.root) return;
    if (busy) this.root.setAttribute('aria-busy', 'true');
    else this.root.removeAttribute('aria-busy');
    for (const field of [this.code, this.pin]) {
      if (field) field.input.readOnly = busy && this.submitting;
    }
  }

  private complete(result: PaymentResult): void {
    void safeCall(this.context.enablerOptions.onComplete, result);
  }

  private reportError(error: unknown): void {
    if (typeof error === 'object' && error !== null) {
      if (this.reported.has(error)) return;
      this.reported.add(error);
    }
    void safeCall(this.context.enablerOptions.onError, error);
  }
}
