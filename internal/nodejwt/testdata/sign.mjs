// Signs tokens with the real jsonwebtoken for internal/nodejwt: reads a JSON
// array of requests on stdin, writes a JSON array of tokens on stdout.
//
// A request is {payload, key, options} for jwt.sign(payload, key, options)
// exactly as an express application calls it (noTyp: true drops typ from
// the header, as options.header {typ: undefined} does), or {payload, forge: {alg, hmac}}
// for a token jsonwebtoken refuses to sign: the header {alg, typ: "JWT"} with
// an HMAC-SHA256 signature under the secret hmac (algorithm confusion).
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const jwt = require("jsonwebtoken");

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map((r) => {
  if (r.forge) {
    const signed = b64({ alg: r.forge.alg, typ: "JWT" }) + "." + b64(r.payload);
    return signed + "." + createHmac("sha256", r.forge.hmac).update(signed).digest("base64url");
  }
  const options = { ...(r.options ?? {}) };
  if (r.noTyp) options.header = { ...(options.header ?? {}), typ: undefined }; // a header without typ
  return jwt.sign(r.payload, r.key ?? null, options);
});
process.stdout.write(JSON.stringify(out));
