// Demo shop: cart and session from our backend, gift card fields from the Enabler (Processor origin).
// Only public values reach this page: the Processor URL, the session id and the cart id.

const TEXT = {
  en: {
    title: 'Demo shop', language: 'Language', cart: 'Your cart', total: 'Total', owed: 'Still to pay',
    newCart: 'New cart', giftcard: 'Pay with a gift card', checkBalance: 'Check balance',
    balance: 'Card balance', amount: 'Amount to apply', apply: 'Apply gift card',
    applied: 'Gift card applied: {amount}.', notApplied: 'The gift card was not applied.',
    payments: 'Payments recorded in commercetools', noPayments: 'No payments yet.', paid: 'The cart is fully paid.',
    status: 'Connector status', refresh: 'Refresh', loadFailed: 'The gift card form could not be loaded.',
    badAmount: 'Enter an amount between {min} and {max}.',
  },
  de: {
    title: 'Demo-Shop', language: 'Sprache', cart: 'Ihr Warenkorb', total: 'Summe', owed: 'Noch zu zahlen',
    newCart: 'Neuer Warenkorb', giftcard: 'Mit Geschenkkarte bezahlen', checkBalance: 'Guthaben prüfen',
    balance: 'Guthaben der Karte', amount: 'Einzulösender Betrag', apply: 'Geschenkkarte einlösen',
    applied: 'Geschenkkarte eingelöst: {amount}.', notApplied: 'Die Geschenkkarte wurde nicht eingelöst.',
    payments: 'In commercetools erfasste Zahlungen', noPayments: 'Noch keine Zahlungen.',
    paid: 'Der Warenkorb ist vollständig bezahlt.', status: 'Status des Connectors', refresh: 'Aktualisieren',
    loadFailed: 'Das Geschenkkartenformular konnte nicht geladen werden.',
    badAmount: 'Geben Sie einen Betrag zwischen {min} und {max} ein.',
  },
  fr: {
    title: 'Boutique de démonstration', language: 'Langue', cart: 'Votre panier', total: 'Total',
    owed: 'Reste à payer', newCart: 'Nouveau panier', giftcard: 'Payer avec une carte cadeau',
    checkBalance: 'Vérifier le solde', balance: 'Solde de la carte', amount: 'Montant à utiliser',
    apply: 'Utiliser la carte cadeau', applied: 'Carte cadeau utilisée : {amount}.',
    notApplied: 'La carte cadeau n’a pas été utilisée.', payments: 'Paiements enregistrés dans commercetools',
    noPayments: 'Aucun paiement pour le moment.', paid: 'Le panier est entièrement payé.',
    status: 'État du connecteur', refresh: 'Actualiser', loadFailed: 'Le formulaire de carte cadeau n’a pas pu être chargé.',
    badAmount: 'Saisissez un montant entre {min} et {max}.',
  },
  nl: {
    title: 'Demowinkel', language: 'Taal', cart: 'Uw winkelwagen', total: 'Totaal', owed: 'Nog te betalen',
    newCart: 'Nieuwe winkelwagen', giftcard: 'Betalen met een cadeaukaart', checkBalance: 'Saldo controleren',
    balance: 'Saldo van de kaart', amount: 'Te gebruiken bedrag', apply: 'Cadeaukaart gebruiken',
    applied: 'Cadeaukaart gebruikt: {amount}.', notApplied: 'De cadeaukaart is niet gebruikt.',
    payments: 'Betalingen in commercetools', noPayments: 'Nog geen betalingen.', paid: 'De winkelwagen is volledig betaald.',
    status: 'Status van de connector', refresh: 'Vernieuwen', loadFailed: 'Het cadeaukaartformulier kon niet worden geladen.',
    badAmount: 'Voer een bedrag in tussen {min} en {max}.',
  },
  cs: {
    title: 'Ukázkový obchod', language: 'Jazyk', cart: 'Váš košík', total: 'Celkem', owed: 'Zbývá zaplatit',
    newCart: 'Nový košík', giftcard: 'Zaplatit dárkovou kartou', checkBalance: 'Ověřit zůstatek',
    balance: 'Zůstatek karty', amount: 'Částka k uplatnění', apply: 'Uplatnit dárkovou kartu',
    applied: 'Dárková karta uplatněna: {amount}.', notApplied: 'Dárková karta nebyla uplatněna.',
    payments: 'Platby zaznamenané v commercetools', noPayments: 'Zatím žádné platby.', paid: 'Košík je zcela zaplacen.',
    status: 'Stav konektoru', refresh: 'Obnovit', loadFailed: 'Formulář dárkové karty se nepodařilo načíst.',
    badAmount: 'Zadejte částku mezi {min} a {max}.',
  },
  sk: {
    title: 'Ukážkový obchod', language: 'Jazyk', cart: 'Váš košík', total: 'Spolu', owed: 'Zostáva zaplatiť',
    newCart: 'Nový košík', giftcard: 'Zaplatiť darčekovou kartou', checkBalance: 'Overiť zostatok',
    balance: 'Zostatok karty', amount: 'Suma na uplatnenie', apply: 'Uplatniť darčekovú kartu',
    applied: 'Darčeková karta uplatnená: {amount}.', notApplied: 'Darčeková karta nebola uplatnená.',
    payments: 'Platby zaznamenané v commercetools', noPayments: 'Zatiaľ žiadne platby.', paid: 'Košík je úplne zaplatený.',
    status: 'Stav konektora', refresh: 'Obnoviť', loadFailed: 'Formulár darčekovej karty sa nepodarilo načítať.',
    badAmount: 'Zadajte sumu medzi {min} a {max}.',
  },
  ro: {
    title: 'Magazin demo', language: 'Limbă', cart: 'Coșul dvs.', total: 'Total', owed: 'Rămas de plată',
    newCart: 'Coș nou', giftcard: 'Plătiți cu un card cadou', checkBalance: 'Verificați soldul',
    balance: 'Soldul cardului', amount: 'Suma de utilizat', apply: 'Utilizați cardul cadou',
    applied: 'Card cadou utilizat: {amount}.', notApplied: 'Cardul cadou nu a fost utilizat.',
    payments: 'Plăți înregistrate în commercetools', noPayments: 'Nicio plată încă.', paid: 'Coșul este plătit integral.',
    status: 'Starea conectorului', refresh: 'Reîmprospătare', loadFailed: 'Formularul cardului cadou nu a putut fi încărcat.',
    badAmount: 'Introduceți o sumă între {min} și {max}.',
  },
};
const LANGUAGE_NAMES = { en: 'English', de: 'Deutsch', fr: 'Français', nl: 'Nederlands', cs: 'Čeština', sk: 'Slovenčina', ro: 'Română' };

const params = new URLSearchParams(location.search);
const locale = TEXT[params.get('locale')] ? params.get('locale') : 'en';
const t = (key, values = {}) => TEXT[locale][key].replace(/\{(\w+)\}/g, (_, name) => values[name]);
const $ = (selector) => document.querySelector(selector);
const processorUrl = document.querySelector('meta[name="processor-url"]').content;

const state = { cartId: null, currency: 'EUR', total: null, owed: null, balance: null, component: null };

function fractionDigits(currency) {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
}
function formatMoney(money) {
  const digits = fractionDigits(money.currencyCode);
  return new Intl.NumberFormat(locale, { style: 'currency', currency: money.currencyCode })
    .format(money.centAmount / 10 ** digits);
}
// "12.50" or "12,50" -> 1250 minor units; NaN for anything else.
function parseAmount(text, currency) {
  const digits = fractionDigits(currency);
  const clean = text.trim().replace(',', '.');
  if (!/^\d+(\.\d*)?$/.test(clean)) return NaN;
  const [whole, part = ''] = clean.split('.');
  if (part.length > digits) return NaN;
  return Number(whole) * 10 ** digits + Number(part.padEnd(digits, '0') || 0);
}
// The amount field in the page's locale ("12,50" in de), without grouping so parseAmount reads it back.
function toInputValue(centAmount, currency) {
  const digits = fractionDigits(currency);
  return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false })
    .format(centAmount / 10 ** digits);
}

async function api(path, options) {
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

// --- page chrome -------------------------------------------------------------------------------

function translatePage() {
  document.documentElement.lang = locale;
  document.title = t('title');
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  const select = $('#locale');
  for (const [code, name] of Object.entries(LANGUAGE_NAMES)) select.add(new Option(name, code, false, code === locale));
  select.addEventListener('change', () => {
    params.set('locale', select.value);
    location.search = params.toString();
  });
  $('#new-cart').addEventListener('click', () => location.reload());
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}
function badge(text) {
  const span = document.createElement('span');
  span.className = `badge ${String(text).split(' ')[0]}`;
  span.textContent = text;
  return span;
}

// --- cart and payments -------------------------------------------------------------------------

// What the Processor counts as paid (contract section 4): Success/Pending Charge or Authorization,
// not refunded or cancelled.
function paidBy(payment) {
  const active = (types) => payment.transactions.some((tx) => types.includes(tx.type) && ['Success', 'Pending'].includes(tx.state));
  return active(['Charge', 'Authorization']) && !active(['Refund', 'CancelAuthorization']) ? payment.amountPlanned.centAmount : 0;
}

function renderCart(cart) {
  const tbody = $('#lines').tBodies[0];
  tbody.replaceChildren();
  for (const item of cart.customLineItems) {
    const row = tbody.insertRow();
    cell(row, `${item.quantity} × ${item.name.en}`);
    cell(row, formatMoney(item.totalPrice), 'num');
  }
  const payments = (cart.paymentInfo?.payments ?? []).map((ref) => ref.obj).filter(Boolean);
  const paid = payments.reduce((sum, payment) => sum + paidBy(payment), 0);
  state.total = cart.totalPrice;
  state.owed = { centAmount: Math.max(cart.totalPrice.centAmount - paid, 0), currencyCode: cart.totalPrice.currencyCode };
  $('#total').textContent = formatMoney(state.total);
  $('#owed').textContent = formatMoney(state.owed);
  $('#owed').dataset.centAmount = state.owed.centAmount;
  renderPayments(payments);
}

function renderPayments(payments) {
  const target = $('#payments');
  if (payments.length === 0) {
    target.innerHTML = `<p class="muted">${t('noPayments')}</p>`;
    return;
  }
  const table = document.createElement('table');
  table.createTHead().innerHTML =
    '<tr><th>Payment</th><th>Method</th><th class="num">Amount planned</th><th>Transactions</th></tr>';
  const tbody = table.createTBody();
  for (const payment of payments) {
    const row = tbody.insertRow();
    row.dataset.testid = 'payment';
    row.dataset.paymentId = payment.id;
    cell(row, '').append(Object.assign(document.createElement('code'), { textContent: payment.id }));
    cell(row, `${payment.paymentMethodInfo?.method ?? ''} (${payment.paymentMethodInfo?.paymentInterface ?? ''})`);
    cell(row, formatMoney(payment.amountPlanned), 'num');
    const list = cell(row, '');
    for (const tx of payment.transactions) {
      const line = document.createElement('div');
      line.dataset.testid = 'transaction';
      line.append(`${tx.type} ${formatMoney(tx.amount)} `, badge(tx.state));
      list.append(line);
    }
  }
  target.replaceChildren(table);
}

async function refreshCart() {
  renderCart(await api(`/api/cart/${state.cartId}`));
  updateAmountField();
}

// --- gift card ---------------------------------------------------------------------------------

function updateAmountField() {
  const input = $('#amount');
  const usable = state.balance && state.owed && state.owed.centAmount > 0;
  input.disabled = !usable;
  $('#apply').disabled = !usable;
  if (usable) {
    input.value = toInputValue(Math.min(state.balance.centAmount, state.owed.centAmount), state.currency);
  }
}

function showBalance(result) {
  const target = $('#balance');
  if (result.status.state === 'Valid' && result.amount) {
    state.balance = result.amount;
    target.textContent = formatMoney(result.amount);
    target.dataset.centAmount = result.amount.centAmount;
  } else {
    // The Enabler shows the translated reason beside the field (role=alert); nothing to repeat here.
    state.balance = null;
    target.textContent = '–';
    delete target.dataset.centAmount;
  }
  updateAmountField();
}

function showResult(text, kind) {
  const target = $('#result');
  target.textContent = text;
  target.className = `result ${kind ?? ''}`;
}

async function checkBalance() {
  showResult('');
  try {
    showBalance(await state.component.balance());
  } catch {
    showBalance({ status: { state: 'GenericError' } });
  }
}

async function mountGiftCard(sessionId) {
  const { Enabler } = await import(`${processorUrl}/enabler/connector-enabler.es.js`);
  const enabler = new Enabler({
    processorUrl,
    sessionId,
    locale,
    onComplete: async ({ isSuccess, paymentReference }) => {
      const applied = isSuccess ? $('#amount').dataset.requested : null;
      state.balance = null;
      $('#balance').textContent = '–';
      // The cart first, then the message: once the message shows, the page is consistent.
      await refreshCart();
      const paid = state.owed?.centAmount === 0 ? ` ${t('paid')}` : '';
      showResult(isSuccess ? t('applied', { amount: applied }) + paid : t('notApplied'), isSuccess ? 'ok' : 'bad');
      $('#result').dataset.paymentReference = paymentReference ?? '';
    },
    onError: () => showResult(t('notApplied'), 'bad'),
  });
  const builder = await enabler.createGiftCardBuilder();
  state.component = builder.build({
    onChange: () => {
      state.balance = null;
      $('#balance').textContent = '–';
      updateAmountField();
    },
    // Enter already started the balance check; balance() joins that same request and hands us its result.
    onEnter: () => checkBalance(),
  });
  state.component.mount('#giftcard');
}

function apply(event) {
  event.preventDefault();
  const centAmount = parseAmount($('#amount').value, state.currency);
  const max = Math.min(state.balance?.centAmount ?? 0, state.owed?.centAmount ?? 0);
  if (!(centAmount > 0 && centAmount <= max)) {
    showResult(t('badAmount', { min: formatMoney({ centAmount: 1, currencyCode: state.currency }), max: formatMoney({ centAmount: max, currencyCode: state.currency }) }), 'bad');
    return;
  }
  $('#amount').dataset.requested = formatMoney({ centAmount, currencyCode: state.currency });
  // Deliberately not guarded here: the Enabler itself ignores a second submit() while one runs.
  state.component.submit({ amount: { centAmount, currencyCode: state.currency } });
}

// --- connector status --------------------------------------------------------------------------

async function refreshStatus() {
  const target = $('#status');
  let body;
  try {
    body = await api('/api/status');
  } catch {
    body = { status: 'Unreachable', checks: [] };
  }
  const summary = document.createElement('p');
  summary.append(badge(body.status), ` ${body.metadata?.name ?? ''} ${body.version ?? ''}`);
  summary.dataset.testid = 'status-summary';
  const list = document.createElement('ul');
  for (const check of body.checks ?? []) {
    const item = document.createElement('li');
    item.append(badge(check.status), ` ${check.name}${check.message ? `: ${check.message}` : ''}`);
    list.append(item);
  }
  target.replaceChildren(summary, list);
}

// --- start -------------------------------------------------------------------------------------

async function main() {
  translatePage();
  $('#check-balance').addEventListener('click', checkBalance);
  $('#apply-form').addEventListener('submit', apply);
  $('#status-refresh').addEventListener('click', refreshStatus);
  void refreshStatus();
  const checkout = await api('/api/checkout', { method: 'POST' });
  state.cartId = checkout.cartId;
  state.currency = checkout.total.currencyCode;
  $('#currency').textContent = state.currency;
  document.body.dataset.cartId = checkout.cartId;
  await refreshCart();
  try {
    await mountGiftCard(checkout.sessionId);
    document.body.dataset.ready = 'true';
  } catch (error) {
    showResult(t('loadFailed'), 'bad');
    console.error(error);
  }
}

main();
