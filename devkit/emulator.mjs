#!/usr/bin/env node
// Local commercetools emulator for tests, the demo and the benchmark.
//
// One HTTP server on 127.0.0.1 serves, under a single base URL:
//   /{projectKey}/...            Core Commerce API (@labdigital/commercetools-mock 4.4.0, via inject)
//   /{projectKey}/sessions[/id]  Session API
//   /oauth/token                 client credentials token (Basic auth)
//   /oauth/introspect            token introspection (Basic auth, form body token=)
//   /.well-known/jwks.json       Merchant Center JWKS (RSA key generated at each start)
//   /__test/...                  test-only controls (not counted, not faulted)
//
// Prints `EMULATOR_READY {"port":N,"projectKey":"...","jwksKid":"..."}` when listening.

import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign } from "node:crypto";
import http from "node:http";
import { parseArgs } from "node:util";

import { CommercetoolsMock } from "@labdigital/commercetools-mock";

// ---------------------------------------------------------------- options
const { values: opts } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "project-key": { type: "string", default: "giftcard-emulator" },
    "client-id": { type: "string", default: "test-client" },
    "client-secret": { type: "string", default: "test-secret" },
    issuer: { type: "string", default: "https://mc-api.emulator.local" },
    verbose: { type: "boolean", default: false },
    "exit-on-stdin-close": { type: "boolean", default: false },
  },
});
const PROJECT_KEY = opts["project-key"];
const CLIENT_ID = opts["client-id"];
const CLIENT_SECRET = opts["client-secret"];
const ISSUER = opts.issuer;
const TOKEN_TTL = 172800;

// ---------------------------------------------------------------- helpers
const fractionDigitsFor = (currency) => {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
  } catch {
    return 2;
  }
};

const ctError = (statusCode, code, message, extra = {}) => ({
  statusCode,
  message,
  errors: [{ code, message, ...extra }],
});

const authError = (statusCode, code, message) => ({
  ...ctError(statusCode, code, message),
  error: code,
  error_description: message,
});

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const nowSec = () => Math.floor(Date.now() / 1000);

function parseBasic(header) {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const idx = decoded.indexOf(":");
  if (idx < 0) return null;
  return { id: decodeURIComponent(decoded.slice(0, idx)), secret: decodeURIComponent(decoded.slice(idx + 1)) };
}

function bearerOf(header) {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header || "");
  return m ? m[1] : null;
}

function parseBody(raw, asForm) {
  if (!raw.length) return undefined;
  const text = raw.toString("utf8");
  if (asForm) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    return JSON.parse(text);
  } catch {
    return Symbol.for("invalid-json");
  }
}
const INVALID_JSON = Symbol.for("invalid-json");

// Set fractionDigits on every cent-precision money in an answer (4.4.0 leaves cart totals at 0).
function fixMoney(node) {
  if (Array.isArray(node)) {
    for (const item of node) fixMoney(item);
  } else if (node && typeof node === "object") {
    if (
      typeof node.currencyCode === "string" &&
      typeof node.centAmount === "number" &&
      (node.type === "centPrecision" || node.type === undefined)
    ) {
      if (node.type === "centPrecision" || "fractionDigits" in node) {
        node.fractionDigits = fractionDigitsFor(node.currencyCode);
      }
    }
    for (const value of Object.values(node)) fixMoney(value);
  }
}

// ---------------------------------------------------------------- keys and JWT
function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, publicKey, kid: randomUUID() };
}
const signingKey = newKey();
let foreignKey = null; // never published: for bad-signature tests (made on first use)
const jwk = {
  ...signingKey.publicKey.export({ format: "jwk" }),
  kid: signingKey.kid,
  alg: "RS256",
  use: "sig",
};

function signJwt(header, claims, key) {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const alg = String(header.alg || "RS256");
  let sig = "";
  if (alg === "none") {
    sig = "";
  } else if (alg.startsWith("HS")) {
    // The classic key-confusion attack: HMAC keyed with the public key PEM.
    const secret = key.publicKey.export({ format: "pem", type: "spki" });
    sig = b64url(createHmac(`sha${alg.slice(2)}`, secret).update(signingInput).digest());
  } else if (alg.startsWith("PS")) {
    sig = b64url(
      sign(`sha${alg.slice(2)}`, Buffer.from(signingInput), {
        key: key.privateKey,
        padding: 6, // RSA_PKCS1_PSS_PADDING
        saltLength: Number(alg.slice(2)) / 8,
      }),
    );
  } else {
    const bits = alg.startsWith("RS") ? alg.slice(2) : "256";
    sig = b64url(sign(`sha${bits}`, Buffer.from(signingInput), key.privateKey));
  }
  return `${signingInput}.${sig}`;
}

function mergeDefined(defaults, overrides) {
  const out = { ...defaults };
  for (const [k, v] of Object.entries(overrides || {})) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------- state
/** @type {Map<string, {scope: string, exp: number, clientId: string, active: boolean}>} */
const tokens = new Map();
/** @type {Map<string, any>} */
const sessions = new Map();
/** @type {Map<string, number>} */
const stats = new Map();
let faults = {};

function mintToken({ scope, active = true, expiresIn = TOKEN_TTL, clientId = CLIENT_ID } = {}) {
  const accessToken = randomBytes(24).toString("base64url");
  const record = {
    scope: scope || `manage_project:${PROJECT_KEY}`,
    exp: nowSec() + Number(expiresIn),
    clientId,
    active: Boolean(active),
  };
  tokens.set(accessToken, record);
  return { accessToken, record };
}

function tokenIsValid(token) {
  const rec = token ? tokens.get(token) : undefined;
  return Boolean(rec && rec.active && rec.exp > nowSec());
}

// ---------------------------------------------------------------- the mock and its fixes
const ctMock = new CommercetoolsMock({
  enableAuthentication: false, // bearer tokens are checked by this front server
  validateCredentials: false,
  defaultProjectKey: PROJECT_KEY,
  silent: !opts.verbose,
});
const storage = ctMock._storage;
const repos = ctMock._repositories;

// Find the package's CommercetoolsError class (not exported) so thrown errors are rendered as 4xx.
let CommercetoolsError = null;
try {
  await storage.getByResourceIdentifier(PROJECT_KEY, { typeId: "customer", id: "no-such-customer" });
} catch (err) {
  CommercetoolsError = err.constructor;
}
if (!CommercetoolsError || CommercetoolsError === Error) {
  throw new Error("emulator: could not find the CommercetoolsError class of commercetools-mock");
}
const throwCt = (statusCode, info) => {
  throw new CommercetoolsError(info, statusCode);
};

// Versions: commercetools bumps once per request (not per action) and checks the version always.
for (const repo of Object.values(repos)) {
  const handler = repo?.actions;
  if (!handler || typeof handler.apply !== "function" || handler.__patched) continue;
  const origApply = handler.apply.bind(handler);
  handler.apply = async (context, resource, version, actions) => {
    if (!Array.isArray(actions)) {
      throwCt(400, { code: "InvalidInput", message: "Request body requires an array of update actions." });
    }
    for (const action of actions) {
      if (!action || typeof action !== "object" || typeof action.action !== "string") {
        throwCt(400, { code: "InvalidInput", message: "Each update action needs a string field 'action'." });
      }
    }
    if (typeof version === "number" && resource.version !== version) {
      const identifier = resource.id ?? resource.key;
      throwCt(409, {
        code: "ConcurrentModification",
        message: `Object ${identifier} has a different version than expected. Expected: ${version} - Actual: ${resource.version}.`,
        currentVersion: resource.version,
      });
    }
    const updated = await origApply(context, resource, version, actions);
    if (updated.version > resource.version) updated.version = resource.version + 1;
    return updated;
  };
  handler.__patched = true;
}

const TRANSACTION_STATES = new Set(["Initial", "Pending", "Success", "Failure"]);
const TRANSACTION_TYPES = new Set(["Authorization", "CancelAuthorization", "Charge", "Refund", "Chargeback"]);

// Payments: unknown transaction ids are an InvalidOperation (4.4.0 answers 200 or corrupts the list).
{
  const handler = repos.payment.actions;
  for (const name of [
    "changeTransactionState",
    "changeTransactionInteractionId",
    "changeTransactionTimestamp",
    "setTransactionInterfaceId",
    "setTransactionCustomField",
    "setTransactionCustomType",
  ]) {
    const orig = handler[name];
    if (typeof orig !== "function") continue;
    handler[name] = function patched(context, resource, action) {
      const found = (resource.transactions || []).some((t) => t.id === action.transactionId);
      if (!found) {
        throwCt(400, {
          code: "InvalidOperation",
          message: `A transaction with ID '${action.transactionId}' does not exist.`,
        });
      }
      if (name === "changeTransactionState" && !TRANSACTION_STATES.has(action.state)) {
        throwCt(400, {
          code: "InvalidJsonInput",
          message: "Request body does not contain valid JSON.",
          detailedErrorMessage: `actions -> state: Invalid value '${action.state}'`,
        });
      }
      return orig.call(this, context, resource, action);
    };
  }
  const origAdd = handler.addTransaction;
  handler.addTransaction = function patched(context, resource, action) {
    const t = action?.transaction;
    if (!t || typeof t !== "object" || typeof t.type !== "string" || !t.amount) {
      throwCt(400, { code: "InvalidInput", message: "addTransaction requires transaction.type and amount." });
    }
    if (!TRANSACTION_TYPES.has(t.type) || (t.state !== undefined && !TRANSACTION_STATES.has(t.state))) {
      throwCt(400, {
        code: "InvalidJsonInput",
        message: "Request body does not contain valid JSON.",
        detailedErrorMessage: `actions -> transaction: Invalid type '${t.type}' or state '${t.state}'`,
      });
    }
    return origAdd.call(this, context, resource, action);
  };
}

// Payments: 4.4.0 drops `customer` and `anonymousId` of the draft.
{
  const repo = repos.payment;
  const origCreate = repo.create.bind(repo);
  repo.create = async (context, draft) => {
    if (!draft || typeof draft !== "object" || !draft.amountPlanned || typeof draft.amountPlanned !== "object") {
      throwCt(400, { code: "RequiredField", message: "The field 'amountPlanned' is required.", field: "amountPlanned" });
    }
    const created = await origCreate(context, draft);
    let changed = false;
    if (draft.customer && (draft.customer.id || draft.customer.key)) {
      created.customer = { typeId: "customer", id: draft.customer.id ?? draft.customer.key };
      changed = true;
    }
    if (draft.anonymousId) {
      created.anonymousId = draft.anonymousId;
      changed = true;
    }
    if (changed) await storage.add(context.projectKey, "payment", created);
    return created;
  };
}

// Carts: 4.4.0 insists the customer exists; real carts may carry any customer id.
{
  const repo = repos.cart;
  const origCreate = repo.create.bind(repo);
  repo.create = async (context, draft) => {
    if (!draft || typeof draft !== "object" || typeof draft.currency !== "string") {
      throwCt(400, { code: "RequiredField", message: "The field 'currency' is required.", field: "currency" });
    }
    const customerId = draft.customerId;
    const created = await origCreate(context, { ...draft, customerId: undefined });
    if (customerId) {
      created.customerId = customerId;
      await storage.add(context.projectKey, "cart", created);
    }
    return created;
  };
}

await ctMock.app.ready();

// ---------------------------------------------------------------- routing helpers
function routeKind(pathname) {
  if (pathname === "/oauth/token") return "oauth/token";
  if (pathname === "/oauth/introspect") return "oauth/introspect";
  if (pathname === "/.well-known/jwks.json") return "jwks";
  const parts = pathname.split("/").filter(Boolean);
  if (parts[0] === "oauth") return `oauth/${parts.slice(1).join("/")}`;
  if (parts.length === 1) return "project";
  if (parts[1] === "in-store") return `in-store/${parts[3] ?? ""}`;
  return parts[1];
}

function faultName(kind) {
  if (kind === "oauth/token") return "token";
  if (kind === "oauth/introspect") return "introspect";
  return kind;
}

function send(res, status, body, headers = {}) {
  const payload = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- handlers
function handleToken(req, res, url, body) {
  const creds = parseBasic(req.headers.authorization);
  if (!creds || creds.id !== CLIENT_ID || creds.secret !== CLIENT_SECRET) {
    return send(
      res,
      401,
      authError(401, "invalid_client", "Please provide valid client credentials using HTTP Basic Authentication."),
    );
  }
  const form = body && typeof body === "object" ? body : {};
  const grantType = url.searchParams.get("grant_type") || form.grant_type;
  if (!grantType) {
    return send(res, 400, authError(400, "invalid_request", "Missing required parameter: grant_type."));
  }
  if (grantType !== "client_credentials") {
    return send(
      res,
      400,
      authError(400, "unsupported_grant_type", `Invalid parameter: grant_type: Invalid grant type: ${grantType}`),
    );
  }
  const scope = form.scope || url.searchParams.get("scope") || undefined;
  const { accessToken, record } = mintToken({ scope });
  return send(res, 200, {
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: record.exp - nowSec(),
    scope: record.scope,
  });
}

function handleIntrospect(req, res, url, body) {
  const creds = parseBasic(req.headers.authorization);
  if (!creds || creds.id !== CLIENT_ID || creds.secret !== CLIENT_SECRET) {
    return send(
      res,
      401,
      authError(401, "invalid_client", "Please provide valid client credentials using HTTP Basic Authentication."),
    );
  }
  const form = body && typeof body === "object" ? body : {};
  const token = form.token || url.searchParams.get("token");
  if (!token) {
    return send(res, 400, authError(400, "invalid_request", "Missing required parameter: token."));
  }
  const rec = tokens.get(token);
  if (!rec || !rec.active || rec.exp <= nowSec()) return send(res, 200, { active: false });
  return send(res, 200, { active: true, scope: rec.scope, exp: rec.exp, client_id: rec.clientId });
}

function requireBearer(req, res) {
  const header = req.headers.authorization;
  const token = bearerOf(header);
  if (!token) {
    send(
      res,
      401,
      authError(
        401,
        "invalid_token",
        "This endpoint requires an access token. You can get one from the authorization server.",
      ),
    );
    return false;
  }
  if (!tokenIsValid(token)) {
    send(res, 401, authError(401, "invalid_token", "invalid_token"));
    return false;
  }
  return true;
}

function sessionView(s) {
  return structuredClone(s);
}

async function handleSessions(req, res, parts, body) {
  // parts: [projectKey, "sessions", id?]
  if (!requireBearer(req, res)) return;
  const [key, , id] = parts;
  if (key !== PROJECT_KEY) {
    return send(res, 404, ctError(404, "ResourceNotFound", `The project '${key}' could not be found.`));
  }
  if (req.method === "POST" && parts.length === 2) {
    if (body === INVALID_JSON || !body || typeof body !== "object") {
      return send(res, 400, ctError(400, "InvalidJsonInput", "Request body does not contain valid JSON."));
    }
    const cartId = body.cart?.cartRef?.id;
    if (typeof cartId !== "string" || !cartId) {
      return send(res, 400, ctError(400, "RequiredField", "The field 'cart.cartRef.id' is required.", { field: "cart" }));
    }
    const cart = await storage.get(PROJECT_KEY, "cart", cartId, {});
    if (!cart) {
      return send(res, 400, ctError(400, "ReferencedResourceNotFound", `The cart '${cartId}' does not exist.`));
    }
    const now = new Date();
    const session = {
      id: randomUUID(),
      version: 1,
      createdAt: now.toISOString(),
      lastModifiedAt: now.toISOString(),
      expiryAt: new Date(now.getTime() + 60 * 60 * 1000).toISOString(),
      state: "ACTIVE",
      activeCart: { cartRef: { id: cartId } },
      metadata: body.metadata && typeof body.metadata === "object" ? body.metadata : {},
    };
    sessions.set(session.id, session);
    return send(res, 201, sessionView(session));
  }
  if (req.method === "GET" && parts.length === 3) {
    const session = sessions.get(id);
    if (!session) {
      return send(res, 404, ctError(404, "ResourceNotFound", `The session with ID '${id}' was not found.`));
    }
    return send(res, 200, sessionView(session));
  }
  return send(res, 405, ctError(405, "MethodNotAllowed", "Method not allowed on this resource."));
}

async function handleTest(req, res, url, body) {
  const path = url.pathname;
  const json = body && typeof body === "object" && body !== INVALID_JSON ? body : {};
  if (path === "/__test/stats" && req.method === "GET") {
    return send(res, 200, Object.fromEntries([...stats.entries()].sort()));
  }
  if (path === "/__test/stats/reset" && req.method === "POST") {
    stats.clear();
    return send(res, 200, {});
  }
  if (path === "/__test/faults") {
    if (req.method === "POST") faults = { ...json };
    return send(res, 200, faults);
  }
  if (path === "/__test/token" && req.method === "POST") {
    const { accessToken, record } = mintToken({
      scope: json.scope,
      active: json.active ?? true,
      expiresIn: json.expiresIn ?? TOKEN_TTL,
      clientId: json.clientId ?? CLIENT_ID,
    });
    return send(res, 200, {
      token: accessToken,
      access_token: accessToken,
      scope: record.scope,
      exp: record.exp,
      active: record.active,
      client_id: record.clientId,
    });
  }
  if (path === "/__test/jwt" && req.method === "POST") {
    const { header: headerOverrides, claims: nested, foreignKey: useForeign, ...rest } = json;
    const claimOverrides = nested && typeof nested === "object" ? nested : rest;
    const iat = nowSec();
    const claims = mergeDefined(
      {
        iss: ISSUER,
        sub: randomUUID(),
        [`${ISSUER}/claims/project_key`]: PROJECT_KEY,
        iat,
        exp: iat + 3600,
      },
      claimOverrides,
    );
    if (useForeign && !foreignKey) foreignKey = newKey();
    const key = useForeign ? foreignKey : signingKey;
    const header = mergeDefined({ alg: "RS256", typ: "JWT", kid: signingKey.kid }, headerOverrides);
    return send(res, 200, { token: signJwt(header, claims, key), header, claims });
  }
  const m = /^\/__test\/sessions\/([^/]+)\/state$/.exec(path);
  if (m && req.method === "POST") {
    const session = sessions.get(decodeURIComponent(m[1]));
    if (!session) return send(res, 404, ctError(404, "ResourceNotFound", "Unknown session."));
    session.state = String(json.state ?? "INACTIVE");
    session.version += 1;
    session.lastModifiedAt = new Date().toISOString();
    return send(res, 200, sessionView(session));
  }
  if (path === "/__test/info" && req.method === "GET") {
    return send(res, 200, {
      projectKey: PROJECT_KEY,
      clientId: CLIENT_ID,
      issuer: ISSUER,
      jwksKid: signingKey.kid,
    });
  }
  return send(res, 404, ctError(404, "ResourceNotFound", `Unknown test endpoint ${req.method} ${path}`));
}

const paymentKeys = new Set();

async function forwardToMock(req, res, url, raw) {
  const headers = { ...req.headers };
  delete headers.host;
  delete headers["content-length"];
  delete headers.connection;
  const isWrite = req.method === "POST" || req.method === "DELETE";
  const parts = url.pathname.split("/").filter(Boolean);
  let claimedKey = null;
  if (req.method === "POST") {
    const body = parseBody(raw, false);
    if (body === INVALID_JSON || body === undefined || typeof body !== "object" || body === null) {
      return send(res, 400, ctError(400, "InvalidJsonInput", "Request body does not contain valid JSON."));
    }
    // Update request: /{key}/{resource}/{id} or /{key}/{resource}/key={key}
    if (parts.length === 3 && !Array.isArray(body)) {
      if (!Number.isInteger(body.version)) {
        return send(
          res,
          400,
          ctError(400, "InvalidJsonInput", "Request body does not contain valid JSON.", {
            detailedErrorMessage: "version: Missing required value",
          }),
        );
      }
      if (!Array.isArray(body.actions)) {
        return send(
          res,
          400,
          ctError(400, "InvalidJsonInput", "Request body does not contain valid JSON.", {
            detailedErrorMessage: "actions: Missing required value",
          }),
        );
      }
    }
    headers["content-type"] = "application/json";
    // commercetools keeps resource keys unique per project; 4.4.0 does not check it for payments.
    if (parts.length === 2 && parts[1] === "payments" && typeof body.key === "string") {
      if (paymentKeys.has(body.key)) {
        return send(
          res,
          400,
          ctError(400, "DuplicateField", `A duplicate value '"${body.key}"' exists for field 'key'.`, {
            field: "key",
            duplicateValue: body.key,
          }),
        );
      }
      // Claimed before the await, so two concurrent creates with one key cannot both pass.
      paymentKeys.add(body.key);
      claimedKey = body.key;
    }
  }
  const result = await ctMock.app.inject({
    method: req.method,
    url: url.pathname + url.search,
    headers,
    payload: raw.length ? raw : undefined,
  });
  let status = result.statusCode;
  let payload = result.body;
  if (claimedKey !== null && status >= 400) paymentKeys.delete(claimedKey);
  const contentType = String(result.headers["content-type"] || "");
  if (contentType.includes("application/json") && payload) {
    try {
      const parsed = JSON.parse(payload);
      if (status >= 500 && isWrite) {
        const message = parsed?.error || parsed?.message || "Invalid request";
        status = 400;
        payload = JSON.stringify(ctError(400, "InvalidInput", `Invalid request: ${message}`));
      } else {
        fixMoney(parsed);
        payload = JSON.stringify(parsed);
      }
    } catch {
      // leave as is
    }
  }
  res.writeHead(status, {
    "content-type": contentType || "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

async function handle(req, res) {
  const url = new URL(req.url, "http://127.0.0.1");
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  // OAuth endpoints take form bodies; everything else is JSON whatever the content type says.
  const body = parseBody(raw, url.pathname.startsWith("/oauth/"));

  if (url.pathname.startsWith("/__test/")) return handleTest(req, res, url, body);

  const kind = routeKind(url.pathname);
  const statKey = `${req.method} ${kind}`;
  stats.set(statKey, (stats.get(statKey) ?? 0) + 1);

  const delay = Number(faults.delays?.[faultName(kind)] ?? faults.delayMs ?? 0);
  if (delay > 0) await sleep(delay);
  const faultStatus = faults[faultName(kind)] ?? faults.all;
  if (Number.isInteger(faultStatus) && faultStatus >= 400) {
    return send(res, faultStatus, ctError(faultStatus, "ServiceUnavailable", `Injected fault on ${kind}`));
  }

  if (url.pathname === "/oauth/token") {
    if (req.method !== "POST") return send(res, 405, ctError(405, "MethodNotAllowed", "Use POST."));
    return handleToken(req, res, url, body);
  }
  if (url.pathname === "/oauth/introspect") {
    if (req.method !== "POST") return send(res, 405, ctError(405, "MethodNotAllowed", "Use POST."));
    return handleIntrospect(req, res, url, body);
  }
  if (url.pathname === "/.well-known/jwks.json") {
    return send(res, 200, { keys: [jwk] }, { "cache-control": "max-age=60" });
  }
  if (url.pathname.startsWith("/oauth/")) {
    return send(res, 404, ctError(404, "ResourceNotFound", "Not supported by the emulator."));
  }
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts.length === 0) {
    return send(res, 200, { name: "commercetools emulator", projectKey: PROJECT_KEY });
  }
  if (parts[1] === "sessions" && parts.length <= 3) return handleSessions(req, res, parts, body);

  if (!requireBearer(req, res)) return;
  return forwardToMock(req, res, url, raw);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`emulator error: ${err?.stack || err}\n`);
    if (!res.headersSent) send(res, 500, ctError(500, "General", "Emulator internal error"));
    else res.end();
  });
});
server.keepAliveTimeout = 65000;

server.listen(Number(opts.port), "127.0.0.1", () => {
  const { port } = server.address();
  process.stdout.write(
    `EMULATOR_READY ${JSON.stringify({ port, projectKey: PROJECT_KEY, jwksKid: signingKey.kid })}\n`,
  );
});

const shutdown = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
// Exit when the parent closes our stdin (the launcher died without cleaning up).
if (opts["exit-on-stdin-close"]) {
  process.stdin.on("end", shutdown);
  process.stdin.on("error", shutdown);
  process.stdin.resume();
}
