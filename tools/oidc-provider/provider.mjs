// A loopback OpenID provider for T2I Studio's sign-in tests: the certified `oidc-provider` package with one
// confidential client (authorization code + PKCE, S256 only), its own login and consent pages (plain forms with
// labels, so Chromium drives them by role and name), RP-initiated logout, and a few fixed test accounts.
//
//   node tools/oidc-provider/provider.mjs --port 0 \
//     --redirect http://127.0.0.1:5000/signin-oidc --post-logout http://127.0.0.1:5000/signout-callback-oidc
//
// Options: --port (0, the default: the system picks a free one, so no other process can take it between a probe
// and the listen), --redirect and --post-logout (repeatable), --client-id (t2i-studio),
// --client-secret (t2i-studio-secret). It prints "listening <issuer>" (with the real port) once its discovery document is served.
// Never use it for anything but tests: the accounts and their password are in this file.
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

/** The password of every test account. */
export const PASSWORD = 'provider-pass-1';

/** The test accounts, by login (their email): the claims the provider releases for each. */
export const ACCOUNTS = {
  'alice@example.test': { name: 'Alice Provider', email_verified: true },
  'bob@example.test': { name: 'Bob Provider', email_verified: true },
  'carol@example.test': { name: 'Carol Provider', email_verified: true },
  'dana@example.test': { name: 'Dana Provider', email_verified: true },
  'erin@example.test': { name: 'Erin Unverified', email_verified: false },
  'mallory@elsewhere.test': { name: 'Mallory Outside', email_verified: true },
};

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    redirect: { type: 'string', multiple: true, default: [] },
    'post-logout': { type: 'string', multiple: true, default: [] },
    'client-id': { type: 'string', default: 't2i-studio' },
    'client-secret': { type: 'string', default: 't2i-studio-secret' },
  },
});
const port = Number.parseInt(args.port ?? '0', 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('provider.mjs: --port N must be a port number (0: any free loopback port).');
  process.exit(2);
}
if (args.redirect.length === 0) {
  console.error('provider.mjs: at least one --redirect URL (the app\'s /signin-oidc) is required.');
  process.exit(2);
}

// The server listens first: the issuer (the provider's address) holds the port the system gave it.
let handle = (_req, res) => { res.statusCode = 503; res.end(); };
const server = http.createServer((req, res) => handle(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test-signing' };

const html = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${html(title)} · Test provider</title>
<style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto}label,input,button{display:block;margin:.4rem 0}
.error{color:#b00020}</style></head>
<body><h1>${html(title)}</h1>${body}</body></html>`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    client_name: 'T2I Studio',
    redirect_uris: args.redirect,
    post_logout_redirect_uris: args['post-logout'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  // PKCE for every client (the default asks it only of public clients); S256 is the only method offered.
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: account.email_verified, name: account.name };
      },
    };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out', `${form}<p>Sign out of the test provider?</p>
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Provider error', `<p class="error">${html(out.error)}: ${html(out.error_description ?? '')}</p>`);
  },
});
// Loopback over http: the provider's own cookies are not marked Secure.
provider.proxy = false;

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

function loginPage(uid, error) {
  return page('Test provider sign-in', `${error ? `<p class="error" role="alert">${html(error)}</p>` : ''}
<form method="post" action="/interaction/${html(uid)}/login">
<label for="login">Email</label><input id="login" name="login" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in to the provider</button>
</form>`);
}

function consentPage(uid, clientName, scopes) {
  return page('Allow access', `<p>${html(clientName)} asks for: ${html(scopes.join(', '))}.</p>
<form method="post" action="/interaction/${html(uid)}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${html(uid)}/abort"><button type="submit">Deny</button></form>`);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, page('Provider error', '<p class="error">This sign-in is not the current one.</p>'));
    return;
  }
  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'login') {
      send(res, 200, loginPage(uid));
    } else {
      const client = await provider.Client.find(details.params.client_id);
      send(res, 200, consentPage(uid, client?.clientName ?? details.params.client_id, String(details.params.scope ?? '').split(' ')));
    }
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, page('Provider error', '<p class="error">Method not allowed.</p>'));
    return;
  }
  if (action === 'login') {
    const form = await readForm(req);
    const login = (form.get('login') ?? '').trim().toLowerCase();
    if (!ACCOUNTS[login] || form.get('password') !== PASSWORD) {
      send(res, 200, loginPage(uid, 'Wrong email or password.'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  if (action === 'confirm') {
    const { prompt: { details: missing }, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) {
      grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    }
    if (missing.missingOIDCClaims) {
      grant.addOIDCClaims(missing.missingOIDCClaims);
    }
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (action === 'abort') {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person denied access.' }, { mergeWithLastSubmission: false });
    return;
  }
  send(res, 404, page('Provider error', '<p class="error">No such page.</p>'));
}

const callback = provider.callback();
handle = (req, res) => {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?\/?$/.exec(new URL(req.url, issuer).pathname);
  if (!match) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1], match[2]).catch((error) => {
    console.error('interaction failed:', error);
    if (!res.headersSent) {
      send(res, 400, page('Provider error', `<p class="error">${html(error.message)}</p>`));
    }
  });
};

console.log(`listening ${issuer}`);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
