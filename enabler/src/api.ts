import type { Amount, BalanceState, BalanceType, EnablerConfig } from './types';

export const BALANCE_STATES: readonly BalanceState[] = [
  'Valid',
  'NotFound',
  'Expired',
  'CurrencyNotMatch',
  'ZeroBalance',
  'GenericError',
];

const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Waits before the Enabler's own retries of one redemption (same Idempotency-Key): a lost answer or a
 * 502/503/504 leaves the outcome unknown, and only a repeat under the same key can settle it safely.
 */
export const REDEEM_RETRY_DELAYS_MS: readonly number[] = [500, 1500];

/** A random key naming one `submit()` (contract section 9); `crypto.randomUUID` where available. */
export function newIdempotencyKey(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Answers after which a repeat of the same redemption may still be needed (the money may have moved). */
function isUnknownOutcome(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504;
}

/** The Processor could not be reached, or answered something outside the contract. */
export class ProcessorError extends Error {
  readonly status?: number;
  readonly body?: unknown;
  /** True when a redemption may have happened (lost answer, 502/503/504): submit again to settle it. */
  unknownOutcome = false;

  constructor(message: string, options: { status?: number; body?: unknown; cause?: unknown } = {}) {
    super(message);
    this.name = 'ProcessorError';
    this.status = options.status;
    this.body = options.body;
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** `https://p.example/` + `/balance` -> `https://p.example/balance` (never `//balance`). */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

type RawResponse = { status: number; json: unknown };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAmount(value: unknown): value is Amount {
  return (
    isRecord(value) &&
    typeof value.centAmount === 'number' &&
    Number.isInteger(value.centAmount) &&
    typeof value.currencyCode === 'string' &&
    value.currencyCode.length > 0
  );
}

function isBalanceState(value: unknown): value is BalanceState {
  return typeof value === 'string' && (BALANCE_STATES as readonly string[]).includes(value);
}

/** 4xx answers that carry a gift card outcome; 401/403 are session problems, not card problems. */
function isCardErrorStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401 && status !== 403;
}

function parseBalanceBody(json: unknown): BalanceType | undefined {
  if (!isRecord(json) || !isRecord(json.status) || !isBalanceState(json.status.state)) {
    return undefined;
  }
  const state = json.status.state;
  const result: BalanceType = { status: { state } };
  const errors = json.status.errors;
  if (Array.isArray(errors)) {
    result.status.errors = errors.filter(isRecord).map((e) => ({
      code: typeof e.code === 'string' ? e.code : state,
      message: typeof e.message === 'string' ? e.message : '',
    }));
  }
  if (isAmount(json.amount)) {
    result.amount = { centAmount: json.amount.centAmount, currencyCode: json.amount.currencyCode };
  }
  return result;
}

export type RedeemOutcome =
  | { kind: 'result'; isSuccess: boolean; paymentReference?: string; redemptionId?: string }
  | { kind: 'cardError'; balance: BalanceType }
  | { kind: 'rejected'; status: number; body: unknown };

export class ProcessorClient {
  constructor(
    private readonly processorUrl: string,
    private readonly sessionId: string,
    private readonly fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args),
    private readonly retryDelaysMs: readonly number[] = REDEEM_RETRY_DELAYS_MS,
  ) {}

  private async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<RawResponse> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'X-Session-Id': this.sessionId,
      ...extraHeaders,
    };
    const init: RequestInit = { method, headers, credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    const timer = controller ? setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS) : undefined;
    if (controller) init.signal = controller.signal;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(joinUrl(this.processorUrl, path), init);
      text = await response.text();
    } catch (cause) {
      throw new ProcessorError(`Processor unreachable (${method} ${path})`, { cause });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    let json: unknown = undefined;
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: response.status, json };
  }

  /**
   * `GET /enabler/config` with the session header (the Processor may require a valid session there);
   * a 404 (a Processor without this route) means "no PIN field". Only the PIN fields are read.
   */
  async config(): Promise<EnablerConfig> {
    const { status, json } = await this.request('GET', '/enabler/config');
    if (status === 404) return { pinRequired: false };
    if (status === 200 && isRecord(json) && typeof json.pinRequired === 'boolean') {
      const config: EnablerConfig = { pinRequired: json.pinRequired };
      if (typeof json.pinLength === 'number' && Number.isInteger(json.pinLength) && json.pinLength > 0) {
        config.pinLength = json.pinLength;
      }
      if (typeof json.pinSupported === 'boolean') config.pinSupported = json.pinSupported;
      return config;
    }
    throw new ProcessorError(`Unexpected answer from GET /enabler/config (HTTP ${status})`, {
      status,
      body: json,
    });
  }

  /** `POST /balance`; resolves for every gift card state, throws ProcessorError otherwise. */
  async balance(code: string, pin?: string): Promise<BalanceType> {
    const body: Record<string, string> = { code };
    if (pin !== undefined && pin !== '') body.pin = pin;
    const { status, json } = await this.request('POST', '/balance', body);
    const parsed = parseBalanceBody(json);
    if (parsed) {
      if (status === 200 && parsed.status.state === 'Valid' && parsed.amount) return parsed;
      if (isCardErrorStatus(status) && parsed.status.state !== 'Valid') return parsed;
    }
    throw new ProcessorError(`Unexpected answer from POST /balance (HTTP ${status})`, {
      status,
      body: json,
    });
  }

  /**
   * `POST /redeem` under one `Idempotency-Key`. A lost answer or a 502/503/504 is repeated with the same
   * key (the Processor answers the first redemption's outcome instead of charging again); after the last
   * retry the ProcessorError carries `unknownOutcome: true`.
   */
  async redeem(
    code: string,
    pin: string | undefined,
    redeemAmount: Amount,
    idempotencyKey: string = newIdempotencyKey(),
  ): Promise<RedeemOutcome> {
    const body: Record<string, unknown> = { code, redeemAmount };
    if (pin !== undefined && pin !== '') body.pin = pin;
    const headers = { 'Idempotency-Key': idempotencyKey };
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.retryDelaysMs.length;
      let answer: RawResponse;
      try {
        answer = await this.request('POST', '/redeem', body, headers);
      } catch (error) {
        if (last) {
          if (error instanceof ProcessorError) error.unknownOutcome = true;
          throw error;
        }
        await sleep(this.retryDelaysMs[attempt] ?? 0);
        continue;
      }
      if (isUnknownOutcome(answer.status) && !last) {
        await sleep(this.retryDelaysMs[attempt] ?? 0);
        continue;
      }
      return parseRedeemAnswer(answer);
    }
  }
}

function parseRedeemAnswer({ status, json }: RawResponse): RedeemOutcome {
  if (status === 200 && isRecord(json) && (json.result === 'Success' || json.result === 'Failure')) {
    const outcome: RedeemOutcome = { kind: 'result', isSuccess: json.result === 'Success' };
    if (typeof json.paymentReference === 'string') outcome.paymentReference = json.paymentReference;
    if (typeof json.redemptionId === 'string') outcome.redemptionId = json.redemptionId;
    return outcome;
  }
  if (isCardErrorStatus(status) && isRecord(json)) {
    const parsed = parseBalanceBody(json);
    if (parsed && parsed.status.state !== 'Valid') return { kind: 'cardError', balance: parsed };
    if (status === 400) {
      return { kind: 'rejected', status, body: json };
    }
  }
  const error = new ProcessorError(`Unexpected answer from POST /redeem (HTTP ${status})`, { status, body: json });
  if (isUnknownOutcome(status)) error.unknownOutcome = true;
  throw error;
}
