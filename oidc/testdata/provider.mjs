// A real OpenID provider for provider_test.go: panva/oidc-provider with its
// development interactions (any login, any password), on a loopback port
// chosen by the system. Usage: node provider.mjs <redirect_uri>...
// It prints one line, {"issuer": "..."}, once it listens.
//
// The account of login L has email L@example.com, verified unless L starts
// with "unverified", and preferred_username L.
import http from 'node:http';
import Provider from 'oidc-provider';

const redirects = process.argv.slice(2);
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      { client_id: 'gatekeep', client_secret: 'gatekeep-test-secret', redirect_uris: redirects,
        grant_types: ['authorization_code'], response_types: ['code'] },
      { client_id: 'other-app', client_secret: 'other-app-secret', redirect_uris: redirects,
        grant_types: ['authorization_code'], response_types: ['code'] },
    ],
    // PKCE is required of every client (S256 is the only method v9 takes).
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'] },
    conformIdTokenClaims: false, // put the scopes' claims in the ID token
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({
        sub: id, email: `${id}@example.com`, email_verified: !id.startsWith('unverified'),
        preferred_username: id,
      }),
    }),
    cookies: { keys: ['gatekeep-test-cookie-key-0123456789'] },
    features: { devInteractions: { enabled: true } },
    ttl: { AuthorizationCode: 60, IdToken: 3600, AccessToken: 3600, Interaction: 600, Session: 600, Grant: 600 },
  });
  // Plain http on loopback: tell the provider not to insist on https.
  provider.proxy = false;
  server.on('request', provider.callback());
  process.stdout.write(JSON.stringify({ issuer }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
