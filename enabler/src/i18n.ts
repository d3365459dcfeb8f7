import type { BalanceState } from './types';

export type MessageKey =
  | 'codeLabel'
  | 'codePlaceholder'
  | 'pinLabel'
  | 'pinPlaceholder'
  | 'optional'
  | 'codeRequired'
  | 'pinRequired'
  | 'pinLength'
  | 'unreachable'
  | 'redemptionFailed'
  | 'unconfirmed'
  | 'notFoundPinHint'
  | 'showPin'
  | 'hidePin'
  | 'checking'
  | 'applying'
  | 'applied'
  | Exclude<BalanceState, 'Valid'>;

export type Messages = Record<MessageKey, string>;

const en: Messages = {
  codeLabel: 'Gift card number',
  codePlaceholder: 'Enter your gift card number',
  pinLabel: 'PIN',
  pinPlaceholder: 'Enter the PIN',
  optional: '(optional)',
  codeRequired: 'Please enter your gift card number.',
  pinRequired: 'Please enter the PIN of your gift card.',
  pinLength: 'The PIN must be exactly {n} characters long.',
  NotFound: 'No gift card was found with these details. Please check your entry.',
  Expired: 'This gift card has expired.',
  CurrencyNotMatch: 'The currency of this gift card does not match the currency of your cart.',
  ZeroBalance: 'This gift card has no remaining balance.',
  GenericError:
    'This gift card cannot be used at the moment. Please try again later or choose another payment method.',
  unreachable: 'The gift card service cannot be reached. Please try again later.',
  redemptionFailed:
    'The gift card could not be redeemed. Please try again or choose another payment method.',
  unconfirmed: 'The payment could not be confirmed. Please apply the card again: it will not be charged twice.',
  notFoundPinHint: 'No gift card was found with these details. If your card has a PIN, enter it as well.',
  showPin: 'Show PIN',
  hidePin: 'Hide PIN',
  checking: 'Checking your gift card…',
  applying: 'Applying your gift card…',
  applied: '{amount} applied. Remaining on the card: {remaining}.',
};

const de: Messages = {
  codeLabel: 'Geschenkkartennummer',
  codePlaceholder: 'Geschenkkartennummer eingeben',
  pinLabel: 'PIN',
  pinPlaceholder: 'PIN eingeben',
  optional: '(optional)',
  codeRequired: 'Bitte geben Sie Ihre Geschenkkartennummer ein.',
  pinRequired: 'Bitte geben Sie die PIN Ihrer Geschenkkarte ein.',
  pinLength: 'Die PIN muss genau {n} Zeichen lang sein.',
  NotFound: 'Zu diesen Angaben wurde keine Geschenkkarte gefunden. Bitte überprüfen Sie Ihre Eingabe.',
  Expired: 'Diese Geschenkkarte ist abgelaufen.',
  CurrencyNotMatch:
    'Die Währung dieser Geschenkkarte stimmt nicht mit der Währung Ihres Warenkorbs überein.',
  ZeroBalance: 'Diese Geschenkkarte hat kein Guthaben mehr.',
  GenericError:
    'Diese Geschenkkarte kann derzeit nicht verwendet werden. Bitte versuchen Sie es später erneut oder wählen Sie eine andere Zahlungsart.',
  unreachable: 'Der Geschenkkartendienst ist nicht erreichbar. Bitte versuchen Sie es später erneut.',
  redemptionFailed:
    'Die Geschenkkarte konnte nicht eingelöst werden. Bitte versuchen Sie es erneut oder wählen Sie eine andere Zahlungsart.',
  unconfirmed: 'Die Zahlung konnte nicht bestätigt werden. Bitte lösen Sie die Karte erneut ein: Sie wird nicht doppelt belastet.',
  notFoundPinHint: 'Zu diesen Angaben wurde keine Geschenkkarte gefunden. Wenn Ihre Karte eine PIN hat, geben Sie sie bitte ebenfalls ein.',
  showPin: 'PIN anzeigen',
  hidePin: 'PIN verbergen',
  checking: 'Geschenkkarte wird geprüft…',
  applying: 'Geschenkkarte wird eingelöst…',
  applied: '{amount} eingelöst. Restguthaben auf der Karte: {remaining}.',
};

const fr: Messages = {
  codeLabel: 'Numéro de la carte cadeau',
  codePlaceholder: 'Saisissez le numéro de votre carte cadeau',
  pinLabel: 'Code PIN',
  pinPlaceholder: 'Saisissez le code PIN',
  optional: '(facultatif)',
  codeRequired: 'Veuillez saisir le numéro de votre carte cadeau.',
  pinRequired: 'Veuillez saisir le code PIN de votre carte cadeau.',
  pinLength: 'Le code PIN doit comporter exactement {n} caractères.',
  NotFound:
    'Aucune carte cadeau ne correspond à ces informations. Veuillez vérifier votre saisie.',
  Expired: 'Cette carte cadeau a expiré.',
  CurrencyNotMatch:
    'La devise de cette carte cadeau ne correspond pas à celle de votre panier.',
  ZeroBalance: 'Le solde de cette carte cadeau est épuisé.',
  GenericError:
    'Cette carte cadeau ne peut pas être utilisée pour le moment. Veuillez réessayer plus tard ou choisir un autre moyen de paiement.',
  unreachable:
    'Le service de cartes cadeaux est injoignable. Veuillez réessayer plus tard.',
  redemptionFailed:
    'La carte cadeau n’a pas pu être utilisée. Veuillez réessayer ou choisir un autre moyen de paiement.',
  unconfirmed: 'Le paiement n’a pas pu être confirmé. Veuillez utiliser la carte à nouveau : elle ne sera pas débitée deux fois.',
  notFoundPinHint: 'Aucune carte cadeau ne correspond à ces informations. Si votre carte a un code PIN, saisissez-le également.',
  showPin: 'Afficher le code PIN',
  hidePin: 'Masquer le code PIN',
  checking: 'Vérification de votre carte cadeau…',
  applying: 'Utilisation de votre carte cadeau…',
  applied: '{amount} utilisé(s). Solde restant sur la carte : {remaining}.',
};

const nl: Messages = {
  codeLabel: 'Cadeaukaartnummer',
  codePlaceholder: 'Voer je cadeaukaartnummer in',
  pinLabel: 'Pincode',
  pinPlaceholder: 'Voer de pincode in',
  optional: '(optioneel)',
  codeRequired: 'Voer je cadeaukaartnummer in.',
  pinRequired: 'Voer de pincode van je cadeaukaart in.',
  pinLength: 'De pincode moet precies {n} tekens lang zijn.',
  NotFound: 'Er is geen cadeaukaart gevonden met deze gegevens. Controleer je invoer.',
  Expired: 'Deze cadeaukaart is verlopen.',
  CurrencyNotMatch:
    'De valuta van deze cadeaukaart komt niet overeen met de valuta van je winkelwagen.',
  ZeroBalance: 'Er staat geen tegoed meer op deze cadeaukaart.',
  GenericError:
    'Deze cadeaukaart kan op dit moment niet worden gebruikt. Probeer het later opnieuw of kies een andere betaalmethode.',
  unreachable: 'De cadeaukaartservice is niet bereikbaar. Probeer het later opnieuw.',
  redemptionFailed:
    'De cadeaukaart kon niet worden verzilverd. Probeer het opnieuw of kies een andere betaalmethode.',
  unconfirmed: 'De betaling kon niet worden bevestigd. Gebruik de kaart opnieuw: er wordt niet twee keer afgeschreven.',
  notFoundPinHint: 'Er is geen cadeaukaart gevonden met deze gegevens. Heeft je kaart een pincode, voer die dan ook in.',
  showPin: 'Pincode tonen',
  hidePin: 'Pincode verbergen',
  checking: 'Je cadeaukaart wordt gecontroleerd…',
  applying: 'Je cadeaukaart wordt gebruikt…',
  applied: '{amount} gebruikt. Resterend saldo op de kaart: {remaining}.',
};

const cs: Messages = {
  codeLabel: 'Číslo dárkové karty',
  codePlaceholder: 'Zadejte číslo dárkové karty',
  pinLabel: 'PIN',
  pinPlaceholder: 'Zadejte PIN',
  optional: '(nepovinné)',
  codeRequired: 'Zadejte prosím číslo dárkové karty.',
  pinRequired: 'Zadejte prosím PIN dárkové karty.',
  pinLength: 'PIN musí mít přesně tento počet znaků: {n}.',
  NotFound: 'K zadaným údajům nebyla nalezena žádná dárková karta. Zkontrolujte prosím zadání.',
  Expired: 'Platnost této dárkové karty vypršela.',
  CurrencyNotMatch: 'Měna této dárkové karty neodpovídá měně vašeho košíku.',
  ZeroBalance: 'Na této dárkové kartě už nezbývá žádný zůstatek.',
  GenericError:
    'Tuto dárkovou kartu nyní nelze použít. Zkuste to prosím později nebo zvolte jiný způsob platby.',
  unreachable: 'Služba dárkových karet není dostupná. Zkuste to prosím později.',
  redemptionFailed:
    'Dárkovou kartu se nepodařilo uplatnit. Zkuste to prosím znovu nebo zvolte jiný způsob platby.',
  unconfirmed: 'Platbu se nepodařilo potvrdit. Uplatněte prosím kartu znovu: nebude stržena dvakrát.',
  notFoundPinHint: 'K zadaným údajům nebyla nalezena žádná dárková karta. Pokud má vaše karta PIN, zadejte jej také.',
  showPin: 'Zobrazit PIN',
  hidePin: 'Skrýt PIN',
  checking: 'Ověřujeme dárkovou kartu…',
  applying: 'Uplatňujeme dárkovou kartu…',
  applied: 'Uplatněno {amount}. Zbývá na kartě: {remaining}.',
};

const sk: Messages = {
  codeLabel: 'Číslo darčekovej karty',
  codePlaceholder: 'Zadajte číslo darčekovej karty',
  pinLabel: 'PIN',
  pinPlaceholder: 'Zadajte PIN',
  optional: '(nepovinné)',
  codeRequired: 'Zadajte, prosím, číslo darčekovej karty.',
  pinRequired: 'Zadajte, prosím, PIN darčekovej karty.',
  pinLength: 'PIN musí mať presne tento počet znakov: {n}.',
  NotFound:
    'K zadaným údajom sa nenašla žiadna darčeková karta. Skontrolujte, prosím, zadané údaje.',
  Expired: 'Platnosť tejto darčekovej karty vypršala.',
  CurrencyNotMatch: 'Mena tejto darčekovej karty nezodpovedá mene vášho košíka.',
  ZeroBalance: 'Na tejto darčekovej karte už nezostal žiadny zostatok.',
  GenericError:
    'Túto darčekovú kartu momentálne nie je možné použiť. Skúste to, prosím, neskôr alebo zvoľte iný spôsob platby.',
  unreachable: 'Služba darčekových kariet nie je dostupná. Skúste to, prosím, neskôr.',
  redemptionFailed:
    'Darčekovú kartu sa nepodarilo uplatniť. Skúste to, prosím, znova alebo zvoľte iný spôsob platby.',
  unconfirmed: 'Platbu sa nepodarilo potvrdiť. Uplatnite, prosím, kartu znova: nebude stiahnutá dvakrát.',
  notFoundPinHint: 'K zadaným údajom sa nenašla žiadna darčeková karta. Ak má vaša karta PIN, zadajte ho tiež.',
  showPin: 'Zobraziť PIN',
  hidePin: 'Skryť PIN',
  checking: 'Overujeme darčekovú kartu…',
  applying: 'Uplatňujeme darčekovú kartu…',
  applied: 'Uplatnené {amount}. Zostáva na karte: {remaining}.',
};

const ro: Messages = {
  codeLabel: 'Numărul cardului cadou',
  codePlaceholder: 'Introduceți numărul cardului cadou',
  pinLabel: 'Cod PIN',
  pinPlaceholder: 'Introduceți codul PIN',
  optional: '(opțional)',
  codeRequired: 'Vă rugăm să introduceți numărul cardului cadou.',
  pinRequired: 'Vă rugăm să introduceți codul PIN al cardului cadou.',
  pinLength: 'Codul PIN trebuie să aibă exact {n} caractere.',
  NotFound:
    'Nu a fost găsit niciun card cadou cu aceste date. Vă rugăm să verificați datele introduse.',
  Expired: 'Acest card cadou a expirat.',
  CurrencyNotMatch: 'Moneda acestui card cadou nu corespunde monedei coșului de cumpărături.',
  ZeroBalance: 'Acest card cadou nu mai are sold disponibil.',
  GenericError:
    'Acest card cadou nu poate fi utilizat momentan. Vă rugăm să încercați mai târziu sau să alegeți o altă metodă de plată.',
  unreachable: 'Serviciul de carduri cadou nu poate fi accesat. Vă rugăm să încercați mai târziu.',
  redemptionFailed:
    'Cardul cadou nu a putut fi folosit. Vă rugăm să încercați din nou sau să alegeți o altă metodă de plată.',
  unconfirmed: 'Plata nu a putut fi confirmată. Vă rugăm să utilizați cardul din nou: nu va fi debitat de două ori.',
  notFoundPinHint: 'Nu a fost găsit niciun card cadou cu aceste date. Dacă cardul are un cod PIN, introduceți-l și pe acesta.',
  showPin: 'Afișați codul PIN',
  hidePin: 'Ascundeți codul PIN',
  checking: 'Se verifică cardul cadou…',
  applying: 'Se utilizează cardul cadou…',
  applied: '{amount} utilizat. Sold rămas pe card: {remaining}.',
};

export const translations: Record<string, Messages> = { en, de, fr, nl, cs, sk, ro };

export const supportedLocales = Object.keys(translations);

/** `de-DE` -> `de`, `fr_CA` -> `fr`, unknown or missing -> `en`. */
export function resolveLocale(locale?: string): string {
  if (typeof locale !== 'string') return 'en';
  const language = locale.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return Object.prototype.hasOwnProperty.call(translations, language) ? language : 'en';
}

export function messagesFor(locale?: string): Messages {
  return translations[resolveLocale(locale)] ?? en;
}

export function format(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}
