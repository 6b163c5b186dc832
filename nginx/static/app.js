// The demo page: plain JavaScript, no build step.  It calls the API under
// /api/ the way the seed project's front end does: the token from
// /user/login kept in sessionStorage and sent in the `authorization` header.
"use strict";

const API = "/api";
const $ = (id) => document.getElementById(id);
const state = { store: null, strategy: null, nodes: [], sentBy: null, login: null, rows: [] };

async function call(method, path, { body, auth } = {}) {
  const headers = {};
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

async function discover() {
  const seen = new Map();
  for (let i = 0; i < 8; i++) {  // round robin: a few calls meet every node
    const r = await call("GET", "/cluster/info");
    if (r.status === 200) seen.set(r.json.data.node, r.json.data.store);
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
  $("nodes").innerHTML = state.nodes.map((n) => `<span>${n}</span>`).join("");
  explain();
}

function randomPhone() {
  return "138" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
}

async function sendCode() {
  const phone = $("phone").value.trim();
  $("send").disabled = true;
  const before = await call("GET", "/dev/sms/latest?phone=" + encodeURIComponent(phone));
  const r = await call("POST", "/user/code?phone=" + encodeURIComponent(phone));
  $("send").disabled = false;
  if (!r.json.success) {
    show($("send-result"), `${r.node || "nginx"} said: ${r.json.errorMsg}`, false);
    return;
  }
  state.sentBy = r.node;
  state.login = null;
  show($("send-result"), `${r.node} made a code, stored it, and sent it`, true);
  // The phone is outside the cluster: it reads the SMS from the outbox.
  const sentBefore = before.status === 200 ? before.json.data.sentAt : null;
  for (let i = 0; i < 25; i++) {
    const sms = await call("GET", "/dev/sms/latest?phone=" + encodeURIComponent(phone));
    if (sms.status === 200 && sms.json.data.sentAt !== sentBefore) {
      const d = sms.json.data;
      $("sms").innerHTML = `${d.body.replace(d.code, `<span class="code">${d.code}</span>`)}`;
      $("sms").classList.remove("muted");
      $("sms").dataset.code = d.code;
      $("use-code").hidden = false;
      break;
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
  explain();
}

async function logIn() {
  const body = { phone: $("phone").value.trim(), code: $("code").value.trim() };
  $("login").disabled = true;
  const r = await call("POST", "/user/login", { body });
  $("login").disabled = false;
  state.login = { ok: r.json.success === true, node: r.node, msg: r.json.errorMsg };
  if (r.json.success) {
    sessionStorage.setItem("token", r.json.data);
    show($("login-result"), `logged in by ${r.node}: your token is kept in sessionStorage`, true);
  } else {
    sessionStorage.removeItem("token");
    show($("login-result"), `${r.node || "nginx"} said: ${r.json.errorMsg}`, false);
  }
  explain();
}

async function meTimesTen() {
  const tbody = $("rows").querySelector("tbody");
  tbody.innerHTML = "";
  state.rows = [];
  $("me10").disabled = true;
  for (let i = 1; i <= 10; i++) {
    const r = await call("GET", "/user/me", { auth: true });
    const found = r.status === 200 && r.json.success === true;
    state.rows.push({ node: r.node, status: r.status, found });
    const tr = document.createElement("tr");
    tr.className = found ? "ok" : "bad";
    tr.innerHTML = `<td>${i}</td><td>${r.node || "—"}</td><td>${r.status}</td>` +
      `<td>${found ? "found: " + r.json.data.nickName : "not found"}</td>`;
    tbody.appendChild(tr);
  }
  $("me10").disabled = false;
  const n = state.rows.filter((x) => x.found).length;
  show($("tally"), `${n} of 10 requests found your session`, n === 10);
  explain();
}

function explain() {
  const p = [];
  const memory = state.store === "memory";
  const sticky = () => (state.strategy || "").startsWith("sticky");
  if (memory) {
    p.push("This cluster keeps sessions <b>in each node's memory</b>, like Tomcat's <code>HttpSession</code>. " +
      "What one node stores, the others never see: that is the cluster session-sharing problem (集群 session 共享问题).");
    if (sticky()) {
      p.push("But nginx pins this browser to one node (a <code>route</code> cookie: sticky sessions), so every request " +
        "lands where your session is, until that node dies or restarts: then its users are logged out, and " +
        "<code>make compare</code> shows it.");
    }
  } else if (state.store === "replicated") {
    p.push("Every node keeps <b>a copy of every session</b> and sends each change to the others (Tomcat's session " +
      "replication, which the seed course turns down): memory is spent once per node, and for a moment after a " +
      "login another node may not know it yet. <code>make compare</code> measures both.");
  } else if (state.store === "redis") {
    p.push("This cluster keeps sessions <b>in Redis</b>, outside the nodes, which every node reads and writes. " +
      "That is the seed course's fix: Redis replaces the session (用 Redis 代替 session).");
  }
  if (state.sentBy) {
    p.push(`The code was stored by <b>${state.sentBy}</b>, under <code>login:code:{phone}</code> ` +
      (memory ? "in its own memory." : state.store === "replicated" ? "in its own memory, and sent a copy to every other node."
        : "in Redis, for 2 minutes."));
  }
  if (state.login && !state.login.ok && state.login.msg === "wrong code") {
    p.push(memory && state.login.node !== state.sentBy
      ? `Your login went to <b>${state.login.node}</b> (round robin), which never saw that code, so it said "wrong code" ` +
        "(验证码错误) though the code was right. Try again with a new phone number: once the code and the login land on the same " +
        "node, the login works."
      : "The code was wrong, used already, or expired.");
  } else if (state.login && state.login.ok) {
    p.push(`<b>${state.login.node}</b> logged you in and stored your user under a random token ` +
      (memory ? "in its own memory." : state.store === "replicated" ? "in its memory, and sent a copy to every other node."
        : "in Redis (a hash, 30 minutes, pushed back on every request).") +
      " The token went back to this page, which sends it with every request.");
  }
  if (state.rows.length) {
    const found = state.rows.filter((r) => r.found);
    const lost = state.rows.filter((r) => !r.found);
    if (!lost.length) {
      p.push(`All ten requests found your session, whichever node answered (${[...new Set(found.map((r) => r.node))].sort().join(", ")}): ` +
        (state.store === "redis" ? "they all read the same Redis. " : state.store === "replicated" ? "each holds a copy. " : "") + "Each one also pushed the session's expiry back, as a session's would be (续期).");
    } else if (!found.length) {
      p.push("No request found a session: you are not logged in (no token, or one that is no longer valid).");
    } else {
      p.push(`Only <b>${[...new Set(found.map((r) => r.node))].join(", ")}</b> knew you: it holds your session in its memory. ` +
        `The other nodes (${[...new Set(lost.map((r) => r.node))].sort().join(", ")}) answered 401, as if you had never ` +
        "logged in. Behind a round-robin balancer a user is logged out on most requests: the data is lost (数据丢失).");
    }
  }
  $("explain").innerHTML = p.map((x) => `<p>${x}</p>`).join("") ||
    '<p class="muted">Send a code, log in, and ask who you are: the explanation follows what you see.</p>';
}

$("phone").value = randomPhone();
$("send").addEventListener("click", sendCode);
$("use-code").addEventListener("click", () => { $("code").value = $("sms").dataset.code || ""; });
$("login").addEventListener("click", logIn);
$("me10").addEventListener("click", meTimesTen);
discover();
