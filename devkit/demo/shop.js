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
    appliedCards: 'Gift cards on this order', noAppliedCards: 'No gift card applied yet.', cardN: 'Gift card {n}',
    remove: 'Remove', removeLabel: 'Remove gift card {n} ({amount})',
    removed: 'Gift card removed: {amount} is back on the card.', removeFailed: 'The gift card could not be removed. Please try again.',
    colPayment: 'Payment', colMethod: 'Method', colAmount: 'Amount', colTransactions: 'Transactions', giftcardMethod: 'Gift card',
    'tx.Authorization': 'Authorization', 'tx.Charge': 'Charge', 'tx.Refund': 'Refund', 'tx.CancelAuthorization': 'Cancelled authorization', 'tx.Chargeback': 'Chargeback',
    'state.Initial': 'Started', 'state.Pending': 'Pending', 'state.Success': 'Succeeded', 'state.Failure': 'Failed',
    'status.OK': 'OK', 'status.Partially Available': 'Partially available', 'status.Unavailable': 'Unavailable', 'status.Unreachable': 'Unreachable', 'status.UP': 'Up', 'status.DOWN': 'Down',
    'check.CoCo Permissions': 'commercetools permissions', 'check.Giftcard provider status check': 'Gift card provider',
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
    appliedCards: 'Geschenkkarten in dieser Bestellung', noAppliedCards: 'Noch keine Geschenkkarte eingelöst.', cardN: 'Geschenkkarte {n}',
    remove: 'Entfernen', removeLabel: 'Geschenkkarte {n} entfernen ({amount})',
    removed: 'Geschenkkarte entfernt: {amount} ist wieder auf der Karte.', removeFailed: 'Die Geschenkkarte konnte nicht entfernt werden. Bitte versuchen Sie es erneut.',
    colPayment: 'Zahlung', colMethod: 'Zahlungsart', colAmount: 'Betrag', colTransactions: 'Transaktionen', giftcardMethod: 'Geschenkkarte',
    'tx.Authorization': 'Autorisierung', 'tx.Charge': 'Belastung', 'tx.Refund': 'Erstattung', 'tx.CancelAuthorization': 'Autorisierung storniert', 'tx.Chargeback': 'Rückbuchung',
    'state.Initial': 'Begonnen', 'state.Pending': 'Ausstehend', 'state.Success': 'Erfolgreich', 'state.Failure': 'Fehlgeschlagen',
    'status.OK': 'In Ordnung', 'status.Partially Available': 'Teilweise verfügbar', 'status.Unavailable': 'Nicht verfügbar', 'status.Unreachable': 'Nicht erreichbar', 'status.UP': 'Verfügbar', 'status.DOWN': 'Gestört',
    'check.CoCo Permissions': 'Berechtigungen in commercetools', 'check.Giftcard provider status check': 'Geschenkkartenanbieter',
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
    appliedCards: 'Cartes cadeaux de cette commande', noAppliedCards: 'Aucune carte cadeau utilisée.', cardN: 'Carte cadeau {n}',
    remove: 'Retirer', removeLabel: 'Retirer la carte cadeau {n} ({amount})',
    removed: 'Carte cadeau retirée : {amount} est de nouveau sur la carte.', removeFailed: 'La carte cadeau n’a pas pu être retirée. Veuillez réessayer.',
    colPayment: 'Paiement', colMethod: 'Moyen', colAmount: 'Montant', colTransactions: 'Transactions', giftcardMethod: 'Carte cadeau',
    'tx.Authorization': 'Autorisation', 'tx.Charge': 'Débit', 'tx.Refund': 'Remboursement', 'tx.CancelAuthorization': 'Autorisation annulée', 'tx.Chargeback': 'Rétrofacturation',
    'state.Initial': 'Commencé', 'state.Pending': 'En attente', 'state.Success': 'Réussi', 'state.Failure': 'Échoué',
    'status.OK': 'OK', 'status.Partially Available': 'Partiellement disponible', 'status.Unavailable': 'Indisponible', 'status.Unreachable': 'Injoignable', 'status.UP': 'Disponible', 'status.DOWN': 'En panne',
    'check.CoCo Permissions': 'Autorisations commercetools', 'check.Giftcard provider status check': 'Fournisseur de cartes cadeaux',
  },
  nl: {
    title: 'Demowinkel', language: 'Taal', cart: 'Uw winkelwagen', total: 'Totaal', owed: 'Nog te betalen',
    newCart: 'Nieuwe winkelwagen', giftcard: 'Betalen met een cadeaukaart', checkBalance: 'Saldo controleren',
    balance: 'Saldo van de kaart', amount: 'Te gebruiken bedrag', apply: 'Cadeaukaart gebruiken',
    applied: 'Cadeaukaart gebruikt: {amount}.', notApplied: 'De cadeaukaart is niet gebruikt.',
    payments: 'Betalingen in commercetools', noPayments: 'Nog geen betalingen.', paid: 'De winkelwagen is volledig betaald.',
    status: 'Status van de connector', refresh: 'Vernieuwen', loadFailed: 'Het cadeaukaartformulier kon niet worden geladen.',
    badAmount: 'Voer een bedrag in tussen {min} en {max}.',
    appliedCards: 'Cadeaukaarten bij deze bestelling', noAppliedCards: 'Nog geen cadeaukaart gebruikt.', cardN: 'Cadeaukaart {n}',
    remove: 'Verwijderen', removeLabel: 'Cadeaukaart {n} verwijderen ({amount})',
    removed: 'Cadeaukaart verwijderd: {amount} staat weer op de kaart.', removeFailed: 'De cadeaukaart kon niet worden verwijderd. Probeer het opnieuw.',
    colPayment: 'Betaling', colMethod: 'Methode', colAmount: 'Bedrag', colTransactions: 'Transacties', giftcardMethod: 'Cadeaukaart',
    'tx.Authorization': 'Autorisatie', 'tx.Charge': 'Afschrijving', 'tx.Refund': 'Terugbetaling', 'tx.CancelAuthorization': 'Autorisatie geannuleerd', 'tx.Chargeback': 'Terugboeking',
    'state.Initial': 'Gestart', 'state.Pending': 'In behandeling', 'state.Success': 'Geslaagd', 'state.Failure': 'Mislukt',
    'status.OK': 'In orde', 'status.Partially Available': 'Gedeeltelijk beschikbaar', 'status.Unavailable': 'Niet beschikbaar', 'status.Unreachable': 'Niet bereikbaar', 'status.UP': 'Beschikbaar', 'status.DOWN': 'Storing',
    'check.CoCo Permissions': 'Rechten in commercetools', 'check.Giftcard provider status check': 'Cadeaukaartaanbieder',
  },
  cs: {
    title: 'Ukázkový obchod', language: 'Jazyk', cart: 'Váš košík', total: 'Celkem', owed: 'Zbývá zaplatit',
    newCart: 'Nový košík', giftcard: 'Zaplatit dárkovou kartou', checkBalance: 'Ověřit zůstatek',
    balance: 'Zůstatek karty', amount: 'Částka k uplatnění', apply: 'Uplatnit dárkovou kartu',
    applied: 'Dárková karta uplatněna: {amount}.', notApplied: 'Dárková karta nebyla uplatněna.',
    payments: 'Platby zaznamenané v commercetools', noPayments: 'Zatím žádné platby.', paid: 'Košík je zcela zaplacen.',
    status: 'Stav konektoru', refresh: 'Obnovit', loadFailed: 'Formulář dárkové karty se nepodařilo načíst.',
    badAmount: 'Zadejte částku mezi {min} a {max}.',
    appliedCards: 'Dárkové karty v této objednávce', noAppliedCards: 'Zatím nebyla uplatněna žádná dárková karta.', cardN: 'Dárková karta {n}',
    remove: 'Odebrat', removeLabel: 'Odebrat dárkovou kartu {n} ({amount})',
    removed: 'Dárková karta odebrána: {amount} je opět na kartě.', removeFailed: 'Dárkovou kartu se nepodařilo odebrat. Zkuste to prosím znovu.',
    colPayment: 'Platba', colMethod: 'Způsob', colAmount: 'Částka', colTransactions: 'Transakce', giftcardMethod: 'Dárková karta',
    'tx.Authorization': 'Autorizace', 'tx.Charge': 'Stržení', 'tx.Refund': 'Vrácení', 'tx.CancelAuthorization': 'Zrušená autorizace', 'tx.Chargeback': 'Zpětné zúčtování',
    'state.Initial': 'Zahájeno', 'state.Pending': 'Čeká', 'state.Success': 'Úspěšné', 'state.Failure': 'Neúspěšné',
    'status.OK': 'V pořádku', 'status.Partially Available': 'Částečně dostupné', 'status.Unavailable': 'Nedostupné', 'status.Unreachable': 'Nedosažitelné', 'status.UP': 'Dostupné', 'status.DOWN': 'Mimo provoz',
    'check.CoCo Permissions': 'Oprávnění v commercetools', 'check.Giftcard provider status check': 'Poskytovatel dárkových karet',
  },
  sk: {
    title: 'Ukážkový obchod', language: 'Jazyk', cart: 'Váš košík', total: 'Spolu', owed: 'Zostáva zaplatiť',
    newCart: 'Nový košík', giftcard: 'Zaplatiť darčekovou kartou', checkBalance: 'Overiť zostatok',
    balance: 'Zostatok karty', amount: 'Suma na uplatnenie', apply: 'Uplatniť darčekovú kartu',
    applied: 'Darčeková karta uplatnená: {amount}.', notApplied: 'Darčeková karta nebola uplatnená.',
    payments: 'Platby zaznamenané v commercetools', noPayments: 'Zatiaľ žiadne platby.', paid: 'Košík je úplne zaplatený.',
    status: 'Stav konektora', refresh: 'Obnoviť', loadFailed: 'Formulár darčekovej karty sa nepodarilo načítať.',
    badAmount: 'Zadajte sumu medzi {min} a {max}.',
    appliedCards: 'Darčekové karty v tejto objednávke', noAppliedCards: 'Zatiaľ nebola uplatnená žiadna darčeková karta.', cardN: 'Darčeková karta {n}',
    remove: 'Odobrať', removeLabel: 'Odobrať darčekovú kartu {n} ({amount})',
    removed: 'Darčeková karta odobraná: {amount} je opäť na karte.', removeFailed: 'Darčekovú kartu sa nepodarilo odobrať. Skúste to, prosím, znova.',
    colPayment: 'Platba', colMethod: 'Spôsob', colAmount: 'Suma', colTransactions: 'Transakcie', giftcardMethod: 'Darčeková karta',
    'tx.Authorization': 'Autorizácia', 'tx.Charge': 'Stiahnutie', 'tx.Refund': 'Vrátenie', 'tx.CancelAuthorization': 'Zrušená autorizácia', 'tx.Chargeback': 'Spätné zúčtovanie',
    'state.Initial': 'Začaté', 'state.Pending': 'Čaká', 'state.Success': 'Úspešné', 'state.Failure': 'Neúspešné',
    'status.OK': 'V poriadku', 'status.Partially Available': 'Čiastočne dostupné', 'status.Unavailable': 'Nedostupné', 'status.Unreachable': 'Nedosiahnuteľné', 'status.UP': 'Dostupné', 'status.DOWN': 'Mimo prevádzky',
    'check.CoCo Permissions': 'Oprávnenia v commercetools', 'check.Giftcard provider status check': 'Poskytovateľ darčekových kariet',
  },
  ro: {
    title: 'Magazin demo', language: 'Limbă', cart: 'Coșul dvs.', total: 'Total', owed: 'Rămas de plată',
    newCart: 'Coș nou', giftcard: 'Plătiți cu un card cadou', checkBalance: 'Verificați soldul',
    balance: 'Soldul cardului', amount: 'Suma de utilizat', apply: 'Utilizați cardul cadou',
    applied: 'Card cadou utilizat: {amount}.', notApplied: 'Cardul cadou nu a fost utilizat.',
    payments: 'Plăți înregistrate în commercetools', noPayments: 'Nicio plată încă.', paid: 'Coșul este plătit integral.',
    status: 'Starea conectorului', refresh: 'Reîmprospătare', loadFailed: 'Formularul cardului cadou nu a putut fi încărcat.',
    badAmount: 'Introduceți o sumă între {min} și {max}.',
    appliedCards: 'Carduri cadou în această comandă', noAppliedCards: 'Niciun card cadou utilizat încă.', cardN: 'Card cadou {n}',
    remove: 'Eliminați', removeLabel: 'Eliminați cardul cadou {n} ({amount})',
    removed: 'Card cadou eliminat: {amount} este din nou pe card.', removeFailed: 'Cardul cadou nu a putut fi eliminat. Vă rugăm să încercați din nou.',
    colPayment: 'Plată', colMethod: 'Metodă', colAmount: 'Sumă', colTransactions: 'Tranzacții', giftcardMethod: 'Card cadou',
    'tx.Authorization': 'Autorizare', 'tx.Charge': 'Debitare', 'tx.Refund': 'Rambursare', 'tx.CancelAuthorization': 'Autorizare anulată', 'tx.Chargeback': 'Anulare plată',
    'state.Initial': 'Începută', 'state.Pending': 'În așteptare', 'state.Success': 'Reușită', 'state.Failure': 'Eșuată',
    'status.OK': 'În regulă', 'status.Partially Available': 'Parțial disponibil', 'status.Unavailable': 'Indisponibil', 'status.Unreachable': 'Inaccesibil', 'status.UP': 'Disponibil', 'status.DOWN': 'Nefuncțional',
    'check.CoCo Permissions': 'Permisiuni commercetools', 'check.Giftcard provider status check': 'Furnizor de carduri cadou',
  },
};

const LANGUAGE_NAMES = { en: 'English', de: 'Deutsch', fr: 'Français', nl: 'Nederlands', cs: 'Čeština', sk: 'Slovenčina', ro: 'Română' };

const params = new URLSearchParams(location.search);
const locale = TEXT[params.get('locale')] ? params.get('locale') : 'en';
const t = (key, values = {}) => (TEXT[locale][key] ?? TEXT.en[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => values[name]);
// A translated label for a value from commercetools or the Processor (e.g. tx.Charge); the value itself otherwise.
const label = (prefix, value) => TEXT[locale][`${prefix}.${value}`] ?? TEXT.en[`${prefix}.${value}`] ?? String(value);
const $ = (selector) => document.querySelector(selector);
const processorUrl = document.querySelector('meta[name="processor-url"]').content;

const state = { cartId: null, currency: 'EUR', total: null, owed: null, balance: null, component: null };
// paymentReference -> {amount, remainingBalance} from the Enabler's onComplete: what the card holds after a Remove.
const appliedCards = new Map();

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

// Disables the buttons while `work` runs; gives the focus back if disabling took it away.
async function busy(buttons, work) {
  const focused = document.activeElement;
  for (const button of buttons) button.disabled = true;
  try {
    return await work();
  } finally {
    for (const button of buttons) button.disabled = false;
    updateAmountField();
    if (buttons.includes(focused) && !focused.disabled && (document.activeElement === document.body || !document.activeElement)) {
      focused.focus();
    }
  }
}

// --- page chrome -------------------------------------------------------------------------------

function translatePage() {
  document.documentElement.lang = locale;
  document.title = t('title');
  for (const element of document.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
  const select = $('#locale');
  for (const [code, name] of Object.entries(LANGUAGE_NAMES)) {
    const option = new Option(name, code, false, code === locale);
    option.lang = code;
    select.add(option);
  }
  select.addEventListener('change', () => {
    params.set('locale', select.value);
    location.search = params.toString();
  });
  $('#new-cart').addEventListener('click', () => location.reload());
}

function cell(row, text, className, heading) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  if (heading) td.dataset.label = heading; // shown above the value on narrow screens
  return td;
}
function badge(value, prefix) {
  const span = document.createElement('span');
  span.className = `badge ${String(value).split(' ')[0]}`;
  span.textContent = label(prefix, value);
  return span;
}

// --- cart and payments -------------------------------------------------------------------------

// What the Processor counts as paid (contract section 4): Success/Pending Charge or Authorization,
// not refunded or cancelled.
function isActive(payment) {
  const has = (types) => payment.transactions.some((tx) => types.includes(tx.type) && ['Success', 'Pending'].includes(tx.state));
  return has(['Charge', 'Authorization']) && !has(['Refund', 'CancelAuthorization']);
}

function renderCart(cart) {
  const tbody = $('#lines').tBodies[0];
  tbody.replaceChildren();
  for (const item of cart.customLineItems) {
    const row = tbody.insertRow();
    cell(row, `${item.quantity} × ${item.name[locale] ?? item.name.en}`);
    cell(row, formatMoney(item.totalPrice), 'num');
  }
  const payments = (cart.paymentInfo?.payments ?? []).map((ref) => ref.obj).filter(Boolean);
  const paid = payments.filter(isActive).reduce((sum, payment) => sum + payment.amountPlanned.centAmount, 0);
  state.total = cart.totalPrice;
  state.owed = { centAmount: Math.max(cart.totalPrice.centAmount - paid, 0), currencyCode: cart.totalPrice.currencyCode };
  $('#total').textContent = formatMoney(state.total);
  $('#owed').textContent = formatMoney(state.owed);
  $('#owed').dataset.centAmount = state.owed.centAmount;
  renderApplied(payments);
  renderPayments(payments);
}

function renderApplied(payments) {
  const list = $('#applied');
  list.replaceChildren();
  const giftcards = payments.filter((payment) => payment.paymentMethodInfo?.method === 'giftcard');
  giftcards.forEach((payment, index) => {
    if (!isActive(payment)) return;
    const n = index + 1;
    const amount = formatMoney(payment.amountPlanned);
    const item = document.createElement('li');
    item.dataset.testid = 'applied-card';
    item.dataset.paymentId = payment.id;
    const text = document.createElement('span');
    text.textContent = `${t('cardN', { n })}: ${amount}`;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = t('remove');
    button.setAttribute('aria-label', t('removeLabel', { n, amount }));
    button.dataset.testid = 'remove-card';
    button.addEventListener('click', () => removeCard(payment, button));
    item.append(text, button);
    list.append(item);
  });
  if (!list.children.length) {
    const empty = document.createElement('li');
    empty.className = 'muted';
    empty.textContent = t('noAppliedCards');
    list.append(empty);
  }
}

function renderPayments(payments) {
  const target = $('#payments');
  if (payments.length === 0) {
    const empty = document.createElement('p');
    empty.className = 'muted';
    empty.textContent = t('noPayments');
    target.replaceChildren(empty);
    return;
  }
  const headings = [t('colPayment'), t('colMethod'), t('colAmount'), t('colTransactions')];
  const table = document.createElement('table');
  table.className = 'payments';
  const head = table.createTHead().insertRow();
  headings.forEach((text, i) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    if (i === 2) th.className = 'num';
    head.append(th);
  });
  const tbody = table.createTBody();
  for (const payment of payments) {
    const row = tbody.insertRow();
    row.dataset.testid = 'payment';
    row.dataset.paymentId = payment.id;
    cell(row, '', 'id', headings[0]).append(Object.assign(document.createElement('code'), { textContent: payment.id }));
    const method = payment.paymentMethodInfo?.method === 'giftcard' ? t('giftcardMethod') : (payment.paymentMethodInfo?.method ?? '');
    cell(row, `${method} (${payment.paymentMethodInfo?.paymentInterface ?? ''})`, '', headings[1]);
    cell(row, formatMoney(payment.amountPlanned), 'num', headings[2]);
    const list = cell(row, '', '', headings[3]);
    for (const tx of payment.transactions) {
      const line = document.createElement('div');
      line.dataset.testid = 'transaction';
      line.dataset.type = tx.type;
      line.dataset.state = tx.state;
      line.append(`${label('tx', tx.type)} ${formatMoney(tx.amount)} `, badge(tx.state, 'state'));
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
  const usable = Boolean(state.balance && state.owed && state.owed.centAmount > 0);
  input.disabled = !usable;
  $('#apply').disabled = !usable;
  if (usable) {
    if (input.dataset.for !== String(state.balance.centAmount)) {
      input.value = toInputValue(Math.min(state.balance.centAmount, state.owed.centAmount), state.currency);
      input.dataset.for = String(state.balance.centAmount);
    }
  } else {
    input.value = '';
    delete input.dataset.for;
  }
}

function showCardBalance(money) {
  const target = $('#balance');
  if (money) {
    target.textContent = formatMoney(money);
    target.dataset.centAmount = money.centAmount;
  } else {
    target.textContent = '–';
    delete target.dataset.centAmount;
  }
}

function showBalance(result) {
  // Errors: the Enabler shows the translated reason beside the field and announces it; nothing to repeat.
  state.balance = result.status.state === 'Valid' && result.amount ? result.amount : null;
  showCardBalance(state.balance);
  updateAmountField();
}

function showResult(text, kind) {
  const target = $('#result');
  target.textContent = text;
  target.className = `result ${kind ?? ''}`;
}

async function checkBalance() {
  showResult('');
  await busy([$('#check-balance'), $('#apply')], async () => {
    try {
      showBalance(await state.component.balance());
    } catch {
      showBalance({ status: { state: 'GenericError' } });
    }
  });
}

async function removeCard(payment, button) {
  showResult('');
  const known = appliedCards.get(payment.id);
  let answer;
  await busy([button], async () => {
    try {
      answer = await api(`/api/cart/${state.cartId}/payments/${payment.id}/cancel`, { method: 'POST' });
    } catch {
      answer = null;
    }
  });
  if (answer?.outcome !== 'approved') {
    showResult(t('removeFailed'), 'bad');
    $('#result').focus();
    return;
  }
  appliedCards.delete(payment.id);
  // The card holds again what it held after this payment plus what came back.
  if (known?.remainingBalance) {
    showCardBalance({
      centAmount: known.remainingBalance.centAmount + payment.amountPlanned.centAmount,
      currencyCode: payment.amountPlanned.currencyCode,
    });
  }
  await refreshCart();
  showResult(t('removed', { amount: formatMoney(payment.amountPlanned) }), 'ok');
  $('#result').focus(); // the button is gone: the message is where the keyboard continues
}

async function mountGiftCard(sessionId) {
  const { Enabler } = await import(`${processorUrl}/enabler/connector-enabler.es.js`);
  const enabler = new Enabler({
    processorUrl,
    sessionId,
    locale,
    onComplete: async ({ isSuccess, paymentReference, amount, remainingBalance }) => {
      state.balance = null;
      if (isSuccess && paymentReference) appliedCards.set(paymentReference, { amount, remainingBalance });
      showCardBalance(isSuccess ? remainingBalance : null);
      // The cart first, then the message: once the message shows, the page is consistent.
      await refreshCart();
      const paid = state.owed?.centAmount === 0 ? ` ${t('paid')}` : '';
      showResult(isSuccess ? t('applied', { amount: formatMoney(amount) }) + paid : t('notApplied'), isSuccess ? 'ok' : 'bad');
      $('#result').dataset.paymentReference = paymentReference ?? '';
      // The Enabler put the focus on its card field; if the page disabled what had it since, continue here.
      if (document.activeElement === document.body || !document.activeElement) $('#result').focus();
    },
    onError: () => showResult(t('notApplied'), 'bad'),
  });
  const builder = await enabler.createGiftCardBuilder();
  state.component = builder.build({
    onChange: () => {
      state.balance = null;
      showCardBalance(null);
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
  // Deliberately not guarded against a double click: the Enabler itself ignores a second submit() while one runs.
  void busy([$('#check-balance'), $('#apply')], () => state.component.submit({ amount: { centAmount, currencyCode: state.currency } }));
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
  summary.append(badge(body.status, 'status'), ` ${body.metadata?.name ?? ''} ${body.version ?? ''}`);
  summary.dataset.testid = 'status-summary';
  const list = document.createElement('ul');
  for (const check of body.checks ?? []) {
    const item = document.createElement('li');
    item.append(badge(check.status, 'status'), ` ${label('check', check.name)}`);
    if (check.message) {
      // The Processor's own words (English), marked as such for screen readers.
      const message = Object.assign(document.createElement('span'), { lang: 'en', textContent: `: ${check.message}` });
      item.append(message);
    }
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
