// The page's whole script: plain fetch calls to the API on this origin.
// credentials: 'same-origin' sends the HttpOnly cookies (it is fetch's
// default; written out here as the point of the page). Nothing else is
// needed against CSRF: the browser sends Sec-Fetch-Site: same-origin, which
// the API checks on every unsafe request authenticated by a cookie.
"use strict";

const out = document.getElementById("out");
let seq = 0;

// show writes one result line; data-seq tells a test that it is there.
function show(text) {
  out.textContent = text;
  out.dataset.seq = String(++seq);
}

// call sends one request and returns [status, parsed body or null].
async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let data = null;
  if (r.status !== 204) {
    try { data = await r.json(); } catch { data = null; }
  }
  return [r.status, data];
}

// describe names the outcome without ever showing a token: register, login
// and refresh also return the tokens in their bodies, which this page drops.
function describe(what, status, data) {
  if (status >= 400) {
    return `${what}: ${status} ${data && data.error ? data.error : ""}`.trim();
  }
  const user = data && (data.user || (data.username && data));
  return user ? `${what}: ${status} ${user.username}` : `${what}: ${status}`;
}

async function run(what, method, path, body) {
  try {
    const [status, data] = await call(method, path, body);
    show(describe(what, status, data));
  } catch (e) {
    show(`${what}: network error`);
  }
}

document.getElementById("credentials").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const action = ev.submitter && ev.submitter.value === "register" ? "register" : "login";
  const creds = {
    username: document.getElementById("username").value,
    password: document.getElementById("password").value,
  };
  run(action, "POST", `/auth/${action}`, creds);
});
document.getElementById("whoami").addEventListener("click", () => run("me", "GET", "/me"));
// An empty body: the API refreshes by the refresh cookie (Path=/auth/refresh).
document.getElementById("refresh").addEventListener("click", () => run("refresh", "POST", "/auth/refresh"));
document.getElementById("logout").addEventListener("click", () => run("logout", "POST", "/auth/logout"));
