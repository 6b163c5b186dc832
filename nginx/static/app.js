// The demo page: plain JavaScript, no build step.  It calls the API under
// /api/ the way the seed project's front end does: the token from
// /user/login kept in sessionStorage and sent in the `authorization` header.
// Every request goes through nginx, so each one reaches the next node in turn.
"use strict";

const API = "/api";
const $ = (id) => document.getElementById(id);
const BUTTONS = ["send", "login", "login-holder", "me10", "logout", "xray-refresh"];
const state = {
  store: null, strategy: null, nodes: [],
  sentBy: null, codeUsed: false, login: null, sessionNode: null, rows: [], logout: null,
  xray: new Map(), xrayOff: false, seen: new Map(),  // key -> {ttlMs, at} of the last reading
};

async function call(method, path, { body, auth, headers: extra } = {}) {
  const headers = { ...extra };
  if (body !== undefined) headers["content-type"] = "application/json";
  const token = sessionStorage.getItem("token");
  if (auth && token) headers["authorization"] = token;
  let resp;
  try {
    resp = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    return { status: 0, node: "", json: { success: false, errorMsg: String(err) } };
  }
  let json = {};
  try { json = await resp.json(); } catch { json = { success: false, errorMsg: resp.statusText }; }
  return {
    status: resp.status,
    node: resp.headers.get("X-Node") || "",
    strategy: resp.headers.get("X-Strategy") || "",  // set by nginx: which answer this cluster runs
    json,
  };
}

function show(el, text, ok) {
  el.textContent = text;
  el.className = "result " + (ok ? "ok" : "bad");
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// One action at a time: the buttons wait, so no two actions' requests
// interleave and each request's node follows from the one before.
async function act(fn) {
  BUTTONS.forEach((id) => { $(id).disabled = true; });
  document.body.dataset.idle = "0";
  try {
    await fn();
  } finally {
    BUTTONS.forEach((id) => { $(id).disabled = false; });
    $("login-holder").disabled = !state.sentBy || state.codeUsed;
    $("logout").disabled = !sessionStorage.getItem("token");
    explain();
    document.body.dataset.idle = "1";
  }
}

async function discover() {
  const seen = new Map();
  const mistakes = new Set();  // MISTAKE=: the seed's wrong turns, made on purpose
  for (let i = 0; i < 8; i++) {  // round robin: a few calls meet every node
    const r = await call("GET", "/cluster/info");
    if (r.status === 200) {
      seen.set(r.json.data.node, r.json.data.store);
      (r.json.data.mistakes || []).forEach((m) => mistakes.add(m));
    }
    if (r.strategy) state.strategy = r.strategy;
  }
  $("strategy").textContent = state.strategy || "unknown";
  state.nodes = [...seen.keys()].sort();
  const stores = new Set(seen.values());
  state.store = stores.size === 1 ? [...stores][0] : [...stores].join(" + ");
  const store = $("store");
  store.textContent = state.store || "unknown";
  store.className = "store-" + state.store;
  $("store-note").textContent = state.store === "redis"
    ? "shared by every node: the fix (Redis 代替 session)"
    : state.store === "replicated" ? "each node keeps a copy of every session, like Tomcat's session replication"
    : state.store === "memory" ? "each node keeps its own, like Tomcat's HttpSession" : "";
  $("mistakes").textContent = [...mistakes].join(", ");
  $("mistakes-line").hidden = mistakes.size === 0;
  $("nodes").innerHTML = state.nodes.map((n) => `<span>${esc(n)}</span>`).join("");
  await xray();
}

function randomPhone() {
  return "138" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
}

async function sendCode() {
  const phone = $("phone").value.trim();
  const before = await call("GET", "/dev/sms/latest?phone=" + encodeURIComponent(phone));
  const r = await call("POST", "/user/code?phone=" + encodeURIComponent(phone));
  if (!r.json.success) {
    show($("send-result"), `${r.node || "nginx"} said: ${r.json.errorMsg}`, false);
    return;
  }
  state.sentBy = r.node;
  state.codeUsed = false;
  state.login = null;
  show($("send-result"), `${r.node} made a code, stored it, and sent it`, true);
  // The phone is outside the cluster: it reads the SMS from the outbox.
  const sentBefore = before.status === 200 ? before.json.data.sentAt : null;
  for (let i = 0; i < 25; i++) {
    const sms = await call("GET", "/dev/sms/latest?phone=" + encodeURIComponent(phone));
    if (sms.status === 200 && sms.json.data.sentAt !== sentBefore) {
      const d = sms.json.data;
      $("sms").innerHTML = esc(d.body).replace(d.code, `<span class="code">${d.code}</span>`);
      $("sms").classList.remove("muted");
      $("sms").dataset.code = d.code;
      $("use-code").hidden = false;
      break;
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
  await xray();
}

function loginBody() {
  return { phone: $("phone").value.trim(), code: $("code").value.trim() };
}

function loggedIn(r) {
  state.codeUsed = true;
  state.sessionNode = r.node;
  state.logout = null;
  sessionStorage.setItem("token", r.json.data);
  show($("login-result"), `logged in by ${r.node}: your token is kept in sessionStorage`, true);
}

async function logIn() {
  const r = await call("POST", "/user/login", { body: loginBody() });
  state.login = { ok: r.json.success === true, node: r.node, msg: r.json.errorMsg, tries: [r.node] };
  if (r.json.success) {
    loggedIn(r);
  } else {
    sessionStorage.removeItem("token");
    show($("login-result"), `${r.node || "nginx"} said: ${r.json.errorMsg}`, false);
  }
  await xray();
}

// Round robin sends each request to the next node: the page sends the
// login again until the node that answers is the one holding the code.  A
// node without a code for the phone refuses without counting a try.
async function logInOnHolder() {
  const tries = [];
  let r;
  for (let i = 0; i < Math.max(state.nodes.length, 1) * 2; i++) {
    r = await call("POST", "/user/login", { body: loginBody() });
    tries.push(r.node);
    if (r.json.success || r.node === state.sentBy || r.status !== 400) break;
  }
  state.login = { ok: r.json.success === true, node: r.node, msg: r.json.errorMsg, tries, holder: true };
  if (r.json.success) loggedIn(r);
  else show($("login-result"), `${r.node || "nginx"} said: ${r.json.errorMsg}`, false);
  await xray();
}

async function meTimesTen() {
  const tbody = $("rows").querySelector("tbody");
  tbody.innerHTML = "";
  state.rows = [];
  for (let i = 1; i <= 10; i++) {
    const r = await call("GET", "/user/me", { auth: true });
    const found = r.status === 200 && r.json.success === true;
    state.rows.push({ node: r.node, status: r.status, found });
    const tr = document.createElement("tr");
    tr.className = found ? "ok" : "bad";
    tr.innerHTML = `<td>${i}</td><td>${esc(r.node || "—")}</td><td>${r.status}</td>` +
      `<td>${found ? "found: " + esc(r.json.data.nickName) : "not found"}</td>`;
    tbody.appendChild(tr);
  }
  const n = state.rows.filter((x) => x.found).length;
  show($("tally"), `${n} of 10 requests found your session`, n === 10);
  await xray();
}

async function logOut() {
  const r = await call("POST", "/user/logout", { auth: true });
  state.logout = { ok: r.json.success === true, node: r.node, status: r.status };
  state.rows = [];
  $("rows").querySelector("tbody").innerHTML = "";
  $("tally").textContent = "";
  // The token stays: ask who you are again to see which nodes still know it.
  show($("logout-result"), r.json.success ? `logged out by ${r.node}`
    : `${r.node || "nginx"} said: ${r.status} ${r.json.errorMsg}`, r.json.success === true);
  await xray();
}

// --- the X-ray -------------------------------------------------------------

async function xray() {
  const phone = $("phone").value.trim();
  const token = sessionStorage.getItem("token");
  const headers = token ? { "X-Xray-Token": token } : {};
  const answers = new Map();
  const want = Math.max(state.nodes.length, 1);
  for (let i = 0; i < want * 2 && answers.size < want; i++) {
    const r = await call("GET", "/dev/xray?phone=" + encodeURIComponent(phone), { headers });
    if (r.status === 404) { state.xrayOff = true; break; }
    if (r.status === 200) answers.set(r.json.data.node, { ...r.json.data, at: performance.now() });
  }
  state.xray = answers;
  renderXray();
}

function fmtTtl(ms) {
  if (ms < 0) return "no TTL";
  const tenths = Math.floor(ms / 100);
  const h = Math.floor(tenths / 36000);
  const m = Math.floor(tenths / 600) % 60;
  const s = `${String(Math.floor(tenths / 10) % 60).padStart(2, "0")}.${tenths % 10}`;
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function fmtFields(fields) {
  return Object.entries(fields).map(([k, v]) => `${esc(k)}=${esc(v)}`).join(" · ");
}

// One key as the page shows it; `bumped` if its TTL is higher than the last
// reading, counted down, would be: a request pushed it back.
function keyItem(entry, at) {
  const before = state.seen.get(entry.key);
  const expected = before ? before.ttlMs - (at - before.at) : null;
  const bumped = expected !== null && entry.ttlMs > expected + 500;
  const type = entry.type ? ` <span class="type">${esc(entry.type)}</span>` : "";
  return `<li class="xkey${bumped ? " bumped" : ""}" data-key="${esc(entry.key)}">` +
    `<code>${esc(entry.key)}</code>${type} <span class="ttl" data-ttl-ms="${entry.ttlMs}" data-at="${at}">` +
    `${fmtTtl(entry.ttlMs)}</span>${bumped ? ' <span class="up">↑ pushed back</span>' : ""}` +
    `<div class="fields">${fmtFields(entry.fields)}</div></li>`;
}

function renderXray() {
  if (state.xrayOff) {
    $("xray-nodes").innerHTML = '<p class="muted">The X-ray is off: it comes with the SMS outbox (SMS_OUTBOX=on).</p>';
    return;
  }
  const seen = new Map();
  const html = state.nodes.map((node) => {
    const d = state.xray.get(node);
    if (!d) {
      return `<div class="xnode" data-node="${esc(node)}"><h3>${esc(node)}</h3>` +
        '<p class="muted">not reached from this browser this time (down, or nginx pins you to another node)</p></div>';
    }
    const m = d.memory;
    const items = m.entries.map((e) => { seen.set(e.key, { ttlMs: e.ttlMs, at: d.at }); return keyItem(e, d.at); });
    const body = d.store === "redis"
      ? '<p class="muted">holds nothing: it reads and writes Redis</p>'
      : `<p class="counts">in its memory: <b>${m.codes}</b> code${m.codes === 1 ? "" : "s"}, ` +
        `<b>${m.sessions}</b> session${m.sessions === 1 ? "" : "s"}, ${m.other} other</p>` +
        (items.length ? `<ul>${items.join("")}</ul>` : '<p class="muted">nothing for this phone or this browser</p>');
    return `<div class="xnode" data-node="${esc(node)}"><h3>${esc(node)}</h3>${body}</div>`;
  });
  $("xray-nodes").innerHTML = html.join("");
  // In redis mode every node reads the same keys: the latest answer shows them.
  const redis = [...state.xray.values()].filter((d) => d.redis).sort((a, b) => b.at - a.at)[0];
  if (redis) {
    const items = redis.redis.map((e) => { seen.set(e.key, { ttlMs: e.ttlMs, at: redis.at }); return keyItem(e, redis.at); });
    $("xray-redis").innerHTML = '<div class="xredis"><h3>Redis, shared by every node</h3>' +
      (items.length ? `<ul>${items.join("")}</ul>` : '<p class="muted">no key for this phone or this browser</p>') + "</div>";
  } else {
    $("xray-redis").innerHTML = "";
  }
  state.seen = seen;
}

// The TTLs count down in the page between two readings.
setInterval(() => {
  const now = performance.now();
  document.querySelectorAll("#xray .ttl").forEach((el) => {
    const ttl = Number(el.dataset.ttlMs);
    if (ttl < 0) return;
    const left = ttl - (now - Number(el.dataset.at));
    el.textContent = left > 0 ? fmtTtl(left) : "expired";
  });
}, 200);

// --- what just happened ----------------------------------------------------

function explain() {
  const p = [];
  const memory = state.store === "memory";
  const redis = state.store === "redis";
  const replicated = state.store === "replicated";
  const sticky = () => (state.strategy || "").startsWith("sticky");
  const phone = esc($("phone").value.trim());
  if (memory) {
    p.push("This cluster keeps sessions <b>in each node's memory</b>, like Tomcat's <code>HttpSession</code>. " +
      "What one node stores, the others never see: that is the cluster session-sharing problem (集群 session 共享问题).");
    if (sticky()) {
      p.push("But nginx pins this browser to one node (a <code>route</code> cookie: sticky sessions), so every request " +
        "lands where your session is, until that node dies or restarts: then its users are logged out, and " +
        "<code>make compare</code> shows it.");
    }
  } else if (replicated) {
    p.push("Every node keeps <b>a copy of every session</b> and sends each change to the others (Tomcat's session " +
      "replication, which the seed course turns down): memory is spent once per node, and for a moment after a " +
      "login another node may not know it yet. <code>make compare</code> measures both.");
  } else if (redis) {
    p.push("This cluster keeps sessions <b>in Redis</b>, outside the nodes, which every node reads and writes. " +
      "That is the seed course's fix: Redis replaces the session (用 Redis 代替 session).");
  }
  if (state.sentBy) {
    p.push(`The code was stored by <b>${esc(state.sentBy)}</b>, ` +
      (memory ? `under <code>code:${phone}</code> in its own memory (see the X-ray).`
        : replicated ? `under <code>code:${phone}</code> in its own memory, and sent a copy to every other node.`
        : `in Redis, under <code>login:code:{${phone}}</code>, for 2 minutes: a hash of the code's HMAC and the tries.`));
  }
  const login = state.login;
  if (login && !login.ok && login.msg === "wrong code") {
    p.push(memory && login.node !== state.sentBy
      ? `Your login went to <b>${esc(login.node)}</b> (round robin: each request goes to the next node), which never ` +
        `saw that code, so it said "wrong code" (验证码错误) though the code was right: only <b>${esc(state.sentBy)}</b> ` +
        "holds it. Press <i>log in on the node that holds your code</i>: the page sends the login again until " +
        `nginx's turn comes to ${esc(state.sentBy)}.`
      : "The code was wrong, used already, or expired: send a new one.");
  } else if (login && login.ok) {
    const missed = login.tries.slice(0, -1);
    if (missed.length) {
      p.push(`The page sent the login ${login.tries.length} times: ${missed.map(esc).join(", ")} said "wrong code" ` +
        "(nothing for this phone in their memory, so no try was counted), then the turn came to the node with the code.");
    }
    p.push(`<b>${esc(login.node)}</b> logged you in` +
      (redis && login.node !== state.sentBy ? `, reading the code ${esc(state.sentBy)} had stored in Redis,` : "") +
      " and stored your user under a session id (the SHA-256 of a random token) " +
      (memory ? `in its own memory: <code>token:…</code> in the X-ray, 30 minutes.`
        : replicated ? "in its memory, and sent a copy to every other node."
        : "in Redis: <code>login:token:…</code>, a hash, 30 minutes, pushed back on every request.") +
      " The token went back to this page, which sends it with every request.");
  }
  if (state.logout) {
    const { node, ok } = state.logout;
    const holder = state.sessionNode;
    if (memory && !ok) {
      p.push(`Your logout reached <b>${esc(node)}</b>, which never had your session, so it answered 401. ` +
        `<b>${esc(holder)}</b> never hears of the logout: it still holds your session and still lets you in. ` +
        "Ask who you are again.");
    } else if (memory && ok) {
      p.push(`<b>${esc(node)}</b> ended your session in its memory. The other nodes never hear of a logout ` +
        "(here no harm done: they never had the session either).");
    } else if (ok) {
      p.push(`<b>${esc(node)}</b> ended your session ` + (redis
        ? "by deleting its key in Redis: every node sees the logout at once (the key is gone from the X-ray)."
        : "and sent the change to every other node."));
    }
  }
  if (state.rows.length) {
    const found = state.rows.filter((r) => r.found);
    const lost = state.rows.filter((r) => !r.found);
    if (!lost.length) {
      p.push(`All ten requests found your session, whichever node answered (${[...new Set(found.map((r) => r.node))].sort().map(esc).join(", ")}): ` +
        (redis ? "they all read the same Redis. " : replicated ? "each holds a copy. " : "") +
        "Each one also pushed the session's expiry back, as a session's would be (续期): its TTL in the X-ray jumped back up.");
    } else if (!found.length) {
      p.push(state.logout && state.logout.ok
        ? "No request found a session: you logged out, and every node knows it."
        : "No request found a session: you are not logged in (no token, or one that is no longer valid).");
    } else {
      p.push(`Only <b>${[...new Set(found.map((r) => r.node))].map(esc).join(", ")}</b> knew you: it holds your session in its memory, ` +
        "and each of its answers pushed the session's TTL back up. " +
        `The other nodes (${[...new Set(lost.map((r) => r.node))].sort().map(esc).join(", ")}) answered 401, as if you had never ` +
        "logged in. Behind a round-robin balancer a user is logged out on most requests: the data is lost (数据丢失).");
    }
  }
  $("explain").innerHTML = p.map((x) => `<p>${x}</p>`).join("") ||
    '<p class="muted">Send a code, log in, and ask who you are: the explanation follows what you see.</p>';
}

$("phone").value = randomPhone();
$("send").addEventListener("click", () => act(sendCode));
$("use-code").addEventListener("click", () => { $("code").value = $("sms").dataset.code || ""; });
$("login").addEventListener("click", () => act(logIn));
$("login-holder").addEventListener("click", () => act(logInOnHolder));
$("me10").addEventListener("click", () => act(meTimesTen));
$("logout").addEventListener("click", () => act(logOut));
$("xray-refresh").addEventListener("click", () => act(xray));
act(discover);
