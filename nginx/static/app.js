// The demo page: plain JavaScript, no build step.  It calls the API under
// /api/ the way the seed project's front end does: the token from
// /user/login kept in sessionStorage and sent in the `authorization` header.
// Every request goes through nginx, so each one reaches the next node in turn.
// The page speaks 中文 or English (the switch at the top): see "Languages".
"use strict";

const API = "/api";
const $ = (id) => document.getElementById(id);
const BUTTONS = ["send", "login", "login-holder", "me10", "logout", "xray-refresh"];
const state = {
  store: null, strategy: null, nodes: [],
  sentBy: null, codeUsed: false, login: null, sessionNode: null, rows: [], logout: null,
  xray: new Map(), xrayOff: false, seen: new Map(),  // key -> {ttlMs, at} of the last reading
  said: new Map(),  // result element id -> [ok, message name, its arguments]: said again on a switch
  drawn: null, before: new Map(),  // the reading last drawn, and the one before it
};

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const list = (nodes) => nodes.map(esc).join(", ");

// --- Languages -------------------------------------------------------------
// The HTML holds the English; ZH the Chinese of every element marked
// data-i18n, under the same name.  MSG holds what the script writes, in both.
// The words are the course's own (黑马点评): 集群 session 共享, 验证码,
// 轮询, 负载均衡, session 拷贝, 刷新 token 有效期, 登录拦截器...

const LANG_KEY = "sessionlab.lang";
const LANGS = { zh: "zh-CN", en: "en" };  // ours -> <html lang> and Accept-Language

const ZH = {
  "page": "集群 session 共享问题 · 实验",
  "title": '集群 session 共享问题 <span class="sub">动手实验</span>',
  "intro": "几个一模一样的节点（相当于课程里的多台 Tomcat）部署在同一个 nginx 后面，nginx 用轮询（round robin）" +
    "做负载均衡：每个请求依次交给下一个节点。发送验证码、登录，连问十次“我是谁”，再退出登录，" +
    "看看每个请求是哪个节点回答的、每个节点手里又存了什么（见下面的 X 光）。",
  "cluster.title": "这个集群",
  "cluster.strategy": "方案：",
  "cluster.store": "session 存在：",
  "cluster.nodes": "nginx 后面的节点：",
  "cluster.mistakes": "故意犯的错误：",
  "cluster.mistakesNote": "（<code>MISTAKE=</code>：这个集群故意做错了，不是正确做法；见下面的分步课程）",
  "send.title": "1 · 发送验证码",
  "send.phone": "手机号",
  "send.button": "发送验证码",
  "phone.label": "模拟的手机",
  "phone.top": "用户的手机（短信）",
  "phone.none": "还没有收到短信",
  "phone.use": "填入这个验证码",
  "login.title": "2 · 短信验证码登录",
  "login.code": "验证码",
  "login.button": "登录",
  "login.holder": "到存着验证码的那个节点上登录",
  "login.note": "和课程项目的前端一样：token 存在 <code>sessionStorage</code> 里，" +
    "每次请求都放在 <code>authorization</code> 请求头里发出去。",
  "me.title": '3 · 我是谁？<span class="sub">登录校验</span>',
  "me.button": "调用 /user/me × 10",
  "me.logout": "退出登录",
  "me.node": "节点（X-Node）",
  "me.status": "状态码",
  "me.session": "session",
  "xray.title": 'X 光：集群里存了什么 <span class="sub">每个节点的内存 · Redis 里的 key</span>',
  "xray.note": "依次问每个节点（<code>GET /api/dev/xray</code>）：它为这个手机号、这个浏览器存了什么。" +
    "显示的是存储里真实的 key 名，以及每个 key 还剩多少有效期（实时倒数）。" +
    "X 光把你的 token 放在它专用的请求头里，所以和其他请求不同，它不会刷新 session 的有效期。" +
    "别的用户的数据只显示个数。",
  "xray.button": "再看一次",
  "lesson.title": '一步一步：集群 session 共享 <span class="sub">课程里走过的弯路，和它们的改法</span>',
  "lesson.note": "每一步先演示一个错误做法，再演示它的改法，各自跑在单独的集群上：" +
    "<code>make lesson</code> 跑全部八步，<code>make lesson STEP=n</code> 只跑第 n 步，" +
    "加上 <code>LESSON_LANG=zh</code> 用中文讲解。想亲手犯一个错：<code>make up MISTAKE=名称</code>。",
  "lesson.1": "session 存在每个节点自己的内存里，nginx 轮询：<code>make lesson STEP=1</code>，" +
    "或 <code>make up SESSION_STORE=memory</code>",
  "lesson.2": "session 拷贝：有时间差，内存占用 × 节点数：<code>make lesson STEP=2</code>，" +
    "或 <code>make up SESSION_STORE=replicated</code>",
  "lesson.3": "用 Redis 代替 session，所有节点共享：<code>make lesson STEP=3</code>，或 <code>make up</code>",
  "lesson.4": "所有验证码共用一个 key（错误），改为 <code>login:code:{手机号}</code>：" +
    "<code>make lesson STEP=4</code>，或 <code>make up MISTAKE=fixed-code-key</code>",
  "lesson.5": "用手机号当 token（错误），改为随机 token：<code>make lesson STEP=5</code>，" +
    "或 <code>make up MISTAKE=phone-token</code>",
  "lesson.6": "用户存成 JSON 字符串，还是 Hash 结构：<code>make lesson STEP=6</code>，" +
    "或 <code>make up MISTAKE=json-string</code>",
  "lesson.7": "有效期只在登录时设置（错误），改为每次请求都刷新 token 有效期：<code>make lesson STEP=7</code>，" +
    "或 <code>make up MISTAKE=no-refresh LOGIN_USER_TTL=10</code>",
  "lesson.8": "只有一个登录拦截器（错误），改为两个：刷新拦截器 + 登录拦截器：<code>make lesson STEP=8</code>，" +
    "或 <code>make up MISTAKE=one-interceptor LOGIN_USER_TTL=10</code>",
  "explain.title": "刚才发生了什么",
  "footer": "切换方案：<code>make up SESSION_STORE=memory</code>（出问题的做法），" +
    "<code>make up SESSION_STORE=memory BALANCE=sticky</code>（粘性会话 sticky session），" +
    "<code>make up SESSION_STORE=replicated</code>（session 拷贝），" +
    "或 <code>make up</code>（正确做法：Redis）。接口文档：<a href=\"/api/openapi.json\">/api/openapi.json</a>。",
};

// What nginx says the cluster runs (X-Strategy), phrase by phrase; what is
// not listed is shown as it comes.
const STRATEGY_ZH = [
  ["in-process sessions, round robin (the bug)", "session 存在各节点自己的内存里，轮询（出问题的做法）"],
  ["sticky sessions (in-process, pinned by cookie)", "粘性会话（session 在节点内存里，cookie 把浏览器固定在一个节点上）"],
  ["session replication (every node holds every session)", "session 拷贝（每个节点都存一份所有的 session）"],
  ["shared session store (Redis)", "共享 session（存在 Redis 里）"],
  [" on Sentinel (a master and a replica, three sentinels)", "，Redis 哨兵模式（一主一从，三个哨兵）"],
  [" on Redis Cluster (three masters, a replica each)", "，Redis Cluster（三主，各带一个从节点）"],
  [", MISTAKE=", "，MISTAKE="],
];

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

const MSG = {
  en: {
    unknown: "unknown",
    "store.redis": "shared by every node: the fix (Redis 代替 session)",
    "store.replicated": "each node keeps a copy of every session, like Tomcat's session replication",
    "store.memory": "each node keeps its own, like Tomcat's HttpSession",
    said: (node, msg) => `${node || "nginx"} said: ${msg}`,
    saidStatus: (node, status, msg) => `${node || "nginx"} said: ${status} ${msg}`,
    sent: (node) => `${node} made a code, stored it, and sent it`,
    loggedIn: (node) => `logged in by ${node}: your token is kept in sessionStorage`,
    loggedOut: (node) => `logged out by ${node}`,
    found: (nick) => "found: " + esc(nick),
    notFound: "not found",
    tally: (n) => `${n} of 10 requests found your session`,
    noTtl: "no TTL",
    expired: "expired",
    pushedBack: "↑ pushed back",
    xrayOff: "The X-ray is off: it comes with the SMS outbox (SMS_OUTBOX=on).",
    notReached: "not reached from this browser this time (down, or nginx pins you to another node)",
    holdsNothing: "holds nothing: it reads and writes Redis",
    counts: (m) => `in its memory: <b>${m.codes}</b> code${m.codes === 1 ? "" : "s"}, ` +
      `<b>${m.sessions}</b> session${m.sessions === 1 ? "" : "s"}, ${m.other} other`,
    nothingHere: "nothing for this phone or this browser",
    redisBox: "Redis, shared by every node",
    noKey: "no key for this phone or this browser",
    start: "Send a code, log in, and ask who you are: the explanation follows what you see.",
    memory: "This cluster keeps sessions <b>in each node's memory</b>, like Tomcat's <code>HttpSession</code>. " +
      "What one node stores, the others never see: that is the cluster session-sharing problem (集群 session 共享问题).",
    sticky: "But nginx pins this browser to one node (a <code>route</code> cookie: sticky sessions), so every request " +
      "lands where your session is, until that node dies or restarts: then its users are logged out, and " +
      "<code>make compare</code> shows it.",
    replicated: "Every node keeps <b>a copy of every session</b> and sends each change to the others (Tomcat's session " +
      "replication, which the seed course turns down): memory is spent once per node, and for a moment after a " +
      "login another node may not know it yet. <code>make compare</code> measures both.",
    redis: "This cluster keeps sessions <b>in Redis</b>, outside the nodes, which every node reads and writes. " +
      "That is the seed course's fix: Redis replaces the session (用 Redis 代替 session).",
    codeStored: (node, phone, store) => `The code was stored by <b>${node}</b>, ` + {
      memory: `under <code>code:${phone}</code> in its own memory (see the X-ray).`,
      replicated: `under <code>code:${phone}</code> in its own memory, and sent a copy to every other node.`,
      redis: `in Redis, under <code>login:code:{${phone}}</code>, for 2 minutes: a hash of the code's HMAC and the tries.`,
    }[store],
    wrongNode: (node, holder) => `Your login went to <b>${node}</b> (round robin: each request goes to the next node), ` +
      `which never saw that code, so it said "wrong code" (验证码错误) though the code was right: only <b>${holder}</b> ` +
      "holds it. Press <i>log in on the node that holds your code</i>: the page sends the login again until " +
      `nginx's turn comes to ${holder}.`,
    wrongCode: "The code was wrong, used already, or expired: send a new one.",
    retried: (count, missed) => `The page sent the login ${count} times: ${missed} said "wrong code" ` +
      "(nothing for this phone in their memory, so no try was counted), then the turn came to the node with the code.",
    loginOk: (node, codeFrom, store) => `<b>${node}</b> logged you in` +
      (codeFrom ? `, reading the code ${codeFrom} had stored in Redis,` : "") +
      " and stored your user under a session id (the SHA-256 of a random token) " + {
        memory: "in its own memory: <code>token:…</code> in the X-ray, 30 minutes.",
        replicated: "in its memory, and sent a copy to every other node.",
        redis: "in Redis: <code>login:token:…</code>, a hash, 30 minutes, pushed back on every request.",
      }[store] + " The token went back to this page, which sends it with every request.",
    logoutMissed: (node, holder) => `Your logout reached <b>${node}</b>, which never had your session, so it answered 401. ` +
      `<b>${holder}</b> never hears of the logout: it still holds your session and still lets you in. ` +
      "Ask who you are again.",
    logoutLocal: (node) => `<b>${node}</b> ended your session in its memory. The other nodes never hear of a logout ` +
      "(here no harm done: they never had the session either).",
    logoutShared: (node, store) => `<b>${node}</b> ended your session ` + (store === "redis"
      ? "by deleting its key in Redis: every node sees the logout at once (the key is gone from the X-ray)."
      : "and sent the change to every other node."),
    allFound: (nodes, store) => `All ten requests found your session, whichever node answered (${nodes}): ` +
      ({ redis: "they all read the same Redis. ", replicated: "each holds a copy. " }[store] || "") +
      "Each one also pushed the session's expiry back, as a session's would be (续期): its TTL in the X-ray jumped back up.",
    noneLoggedOut: "No request found a session: you logged out, and every node knows it.",
    noneFound: "No request found a session: you are not logged in (no token, or one that is no longer valid).",
    someFound: (known, others) => `Only <b>${known}</b> knew you: it holds your session in its memory, ` +
      "and each of its answers pushed the session's TTL back up. " +
      `The other nodes (${others}) answered 401, as if you had never ` +
      "logged in. Behind a round-robin balancer a user is logged out on most requests: the data is lost (数据丢失).",
  },
  zh: {
    unknown: "未知",
    "store.redis": "所有节点共享：正确做法（用 Redis 代替 session）",
    "store.replicated": "每个节点都存一份所有的 session，就像 Tomcat 的 session 拷贝",
    "store.memory": "每个节点只存自己的，就像 Tomcat 的 HttpSession",
    said: (node, msg) => `${node || "nginx"} 回答：${msg}`,
    saidStatus: (node, status, msg) => `${node || "nginx"} 回答：${status} ${msg}`,
    sent: (node) => `${node} 生成了验证码，存了起来，并发出了短信`,
    loggedIn: (node) => `${node} 让你登录了：token 存在 sessionStorage 里`,
    loggedOut: (node) => `${node} 让你退出了登录`,
    found: (nick) => "找到了：" + esc(nick),
    notFound: "没找到",
    tally: (n) => `10 个请求里有 ${n} 个找到了你的 session`,
    noTtl: "永不过期",
    expired: "已过期",
    pushedBack: "↑ 有效期刷新了",
    xrayOff: "X 光关着：它和短信发件箱一起开关（SMS_OUTBOX=on）。",
    notReached: "这次没从这个浏览器问到它（节点挂了，或者 nginx 把你固定在了别的节点上）",
    holdsNothing: "什么都不存：它读写的是 Redis",
    counts: (m) => `内存里：<b>${m.codes}</b> 个验证码，<b>${m.sessions}</b> 个 session，其他 ${m.other} 个`,
    nothingHere: "没有这个手机号或这个浏览器的数据",
    redisBox: "Redis：所有节点共享",
    noKey: "没有这个手机号或这个浏览器的 key",
    start: "发送验证码、登录，再问问“我是谁”：这里会跟着你看到的结果，解释刚才发生了什么。",
    memory: "这个集群把 session 存在<b>每个节点自己的内存</b>里，就像 Tomcat 的 <code>HttpSession</code>。" +
      "一个节点存的东西，别的节点根本看不到：这就是集群 session 共享问题。",
    sticky: "不过 nginx 用一个 <code>route</code> cookie 把这个浏览器固定在了一个节点上（粘性会话，sticky session），" +
      "所以每个请求都落在存着你 session 的那个节点上。可一旦这个节点挂了或者重启，它上面的用户就全都掉线了：" +
      "<code>make compare</code> 会演示这一点。",
    replicated: "每个节点都存一份<b>所有 session 的拷贝</b>，有变化就发给其他节点（也就是 Tomcat 的 session 拷贝，" +
      "课程里放弃了这个方案）：同样的数据每个节点都要占一份内存；而且刚登录的那一刻，别的节点可能还没收到拷贝。" +
      "<code>make compare</code> 把这两点都量了出来。",
    redis: "这个集群把 session 存在 <b>Redis</b> 里：Redis 在各个节点之外，每个节点都能读写它。" +
      "这正是课程里的解决办法：用 Redis 代替 session。",
    codeStored: (node, phone, store) => `验证码是 <b>${node}</b> 存的：` + {
      memory: `存在它自己的内存里，key 是 <code>code:${phone}</code>（见 X 光）。`,
      replicated: `存在它自己的内存里，key 是 <code>code:${phone}</code>，还拷贝了一份给其他每个节点。`,
      redis: `存在 Redis 里，key 是 <code>login:code:{${phone}}</code>，有效期 2 分钟：` +
        "一个 Hash 结构，存着验证码的 HMAC 和已经试过的次数。",
    }[store],
    wrongNode: (node, holder) => `你的登录请求被轮询到了 <b>${node}</b>（每个请求都交给下一个节点），` +
      `它从没见过这个验证码，所以回答“验证码错误”，可验证码明明是对的：只有 <b>${holder}</b> 存着它。` +
      "点一下 <i>到存着验证码的那个节点上登录</i>：页面会一直重发登录请求，" +
      `直到 nginx 轮到 ${holder}。`,
    wrongCode: "验证码不对、已经用过或者过期了：重新发送一个验证码吧。",
    retried: (count, missed) => `页面一共发了 ${count} 次登录请求：${missed} 回答“验证码错误”` +
      "（它们的内存里没有这个手机号的验证码，所以不算一次尝试），然后才轮到存着验证码的那个节点。",
    loginOk: (node, codeFrom, store) => `<b>${node}</b> 让你登录了` +
      (codeFrom ? `（它读的是 ${codeFrom} 存在 Redis 里的验证码）` : "") +
      "，生成了一个随机 token，用它的 SHA-256 作为 session id，" + {
        memory: "把你的用户信息存在它自己的内存里：就是 X 光里的 <code>token:…</code>，有效期 30 分钟。",
        replicated: "把你的用户信息存在它的内存里，还拷贝了一份给其他每个节点。",
        redis: "把你的用户信息存进了 Redis：<code>login:token:…</code>，Hash 结构，有效期 30 分钟，每次请求都会刷新。",
      }[store] + "token 返回给了这个页面，之后每个请求都会带上它。",
    logoutMissed: (node, holder) => `你的退出登录请求到了 <b>${node}</b>，它从来没有你的 session，所以回答 401。` +
      `<b>${holder}</b> 根本不知道你退出了：它还存着你的 session，照样认你是登录状态。再问一次“我是谁”试试。`,
    logoutLocal: (node) => `<b>${node}</b> 删掉了它内存里你的 session。别的节点永远不会知道这次退出登录` +
      "（这回没关系：它们本来就没有这个 session）。",
    logoutShared: (node, store) => `<b>${node}</b> 结束了你的 session：` + (store === "redis"
      ? "删掉了它在 Redis 里的 key，所有节点立刻都知道你退出了（X 光里这个 key 不见了）。"
      : "并把这个变化发给了其他每个节点。"),
    allFound: (nodes, store) => `十个请求不管落到哪个节点（${nodes}），都找到了你的 session：` +
      ({ redis: "它们读的是同一个 Redis。", replicated: "每个节点都有一份拷贝。" }[store] || "") +
      "每个请求还顺便刷新了 token 有效期，就像 session 一样续期：X 光里的有效期又跳回去了。",
    noneLoggedOut: "没有一个请求找到 session：你已经退出登录，所有节点都知道。",
    noneFound: "没有一个请求找到 session：你还没登录（没有 token，或者 token 已经失效）。",
    someFound: (known, others) => `只有 <b>${known}</b> 认识你：你的 session 在它的内存里，` +
      "它每回答一次，就把 session 的有效期刷新一次。" +
      `别的节点（${others}）都回答 401，就像你从没登录过。` +
      "在轮询的负载均衡后面，用户的大部分请求都像没登录一样：这就是课程里说的数据丢失。",
  },
};

let lang = "en";
const EN = new Map();  // data-i18n name -> the English, as the HTML has it

// A message in the page's language: a string, or a function of the arguments.
function t(name, ...args) {
  const msg = MSG[lang][name];
  return typeof msg === "function" ? msg(...args) : msg;
}

function storedLang() {
  try { return localStorage.getItem(LANG_KEY); } catch { return null; }  // storage may be off
}

// The learner's choice, else the browser's first language.
function initialLang() {
  const saved = storedLang();
  if (saved === "zh" || saved === "en") return saved;
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || "";
  return first.toLowerCase().startsWith("zh") ? "zh" : "en";
}

function setLang(chosen, keep) {
  lang = chosen;
  if (keep) {
    try { localStorage.setItem(LANG_KEY, chosen); } catch { /* kept for this visit only */ }
  }
  document.documentElement.lang = LANGS[lang];
  document.title = lang === "zh" ? ZH.page : EN.get("page");
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    el.innerHTML = lang === "zh" ? ZH[el.dataset.i18n] : EN.get(el.dataset.i18n);
  });
  document.querySelectorAll("[data-i18n-aria]").forEach((el) => {
    el.setAttribute("aria-label", lang === "zh" ? ZH[el.dataset.i18nAria] : EN.get(el.dataset.i18nAria));
  });
  document.querySelectorAll(".lang button").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  });
  // What the script wrote, written again.
  showCluster();
  state.said.forEach((said, id) => show(id, ...said));
  renderRows();
  if (state.nodes.length || state.xrayOff) renderXray();
  explain();
}

function strategyText(strategy) {
  if (!strategy) return t("unknown");
  return lang === "zh" ? STRATEGY_ZH.reduce((s, [en, zh]) => s.replace(en, zh), strategy) : strategy;
}

// The API's own refusal for a code that does not match, in either language.
const WRONG_CODE = ["wrong code", "验证码错误"];
const isWrongCode = (msg) => WRONG_CODE.includes(String(msg || "").trim().replace(/[.!。！]+$/, ""));

// --- Calling the API -------------------------------------------------------

async function call(method, path, { body, auth, headers: extra } = {}) {
  // The API answers its refusals in the learner's language.
  const headers = { "Accept-Language": LANGS[lang], ...extra };
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

// A result line: the message by name, kept so that a switch says it again.
function show(id, ok, name, ...args) {
  state.said.set(id, [ok, name, ...args]);
  const el = $(id);
  el.textContent = t(name, ...args);
  el.className = "result " + (ok ? "ok" : "bad");
}

function unsay(id) {
  state.said.delete(id);
  $(id).textContent = "";
}

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
  state.nodes = [...seen.keys()].sort();
  const stores = new Set(seen.values());
  state.store = stores.size === 1 ? [...stores][0] : [...stores].join(" + ");
  $("store").className = "store-" + state.store;
  $("mistakes").textContent = [...mistakes].join(", ");
  $("mistakes-line").hidden = mistakes.size === 0;
  $("nodes").innerHTML = state.nodes.map((n) => `<span>${esc(n)}</span>`).join("");
  showCluster();
  await xray();
}

function showCluster() {
  if (state.store === null) return;  // not asked yet
  $("strategy").textContent = strategyText(state.strategy);
  $("store").textContent = state.store || t("unknown");
  const note = { redis: "store.redis", replicated: "store.replicated", memory: "store.memory" }[state.store];
  $("store-note").textContent = note ? t(note) : "";
}

function randomPhone() {
  return "138" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
}

async function sendCode() {
  const phone = $("phone").value.trim();
  const before = await call("GET", "/dev/sms/latest?phone=" + encodeURIComponent(phone));
  const r = await call("POST", "/user/code?phone=" + encodeURIComponent(phone));
  if (!r.json.success) {
    show("send-result", false, "said", r.node, r.json.errorMsg);
    return;
  }
  state.sentBy = r.node;
  state.codeUsed = false;
  state.login = null;
  show("send-result", true, "sent", r.node);
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
  show("login-result", true, "loggedIn", r.node);
}

async function logIn() {
  const r = await call("POST", "/user/login", { body: loginBody() });
  state.login = { ok: r.json.success === true, node: r.node, msg: r.json.errorMsg, tries: [r.node] };
  if (r.json.success) {
    loggedIn(r);
  } else {
    sessionStorage.removeItem("token");
    show("login-result", false, "said", r.node, r.json.errorMsg);
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
  else show("login-result", false, "said", r.node, r.json.errorMsg);
  await xray();
}

async function meTimesTen() {
  state.rows = [];
  renderRows();
  for (let i = 1; i <= 10; i++) {
    const r = await call("GET", "/user/me", { auth: true });
    const found = r.status === 200 && r.json.success === true;
    state.rows.push({ node: r.node, status: r.status, found, nickName: found ? r.json.data.nickName : "" });
    renderRows();
  }
  const n = state.rows.filter((x) => x.found).length;
  show("tally", n === 10, "tally", n);
  await xray();
}

function renderRows() {
  $("rows").querySelector("tbody").innerHTML = state.rows.map((row, i) =>
    `<tr class="${row.found ? "ok" : "bad"}"><td>${i + 1}</td><td>${esc(row.node || "—")}</td><td>${row.status}</td>` +
    `<td>${row.found ? t("found", row.nickName) : t("notFound")}</td></tr>`).join("");
}

async function logOut() {
  const r = await call("POST", "/user/logout", { auth: true });
  state.logout = { ok: r.json.success === true, node: r.node, status: r.status };
  state.rows = [];
  renderRows();
  unsay("tally");
  // The token stays: ask who you are again to see which nodes still know it.
  if (r.json.success) show("logout-result", true, "loggedOut", r.node);
  else show("logout-result", false, "saidStatus", r.node, r.status, r.json.errorMsg);
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
  if (ms < 0) return t("noTtl");
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
// reading, counted down, would be: a request pushed it back.  `before` is
// the reading that came before this one, not the one being drawn again.
function keyItem(entry, at, before) {
  const last = before.get(entry.key);
  const expected = last ? last.ttlMs - (at - last.at) : null;
  const bumped = expected !== null && entry.ttlMs > expected + 500;
  const type = entry.type ? ` <span class="type">${esc(entry.type)}</span>` : "";
  return `<li class="xkey${bumped ? " bumped" : ""}" data-key="${esc(entry.key)}">` +
    `<code>${esc(entry.key)}</code>${type} <span class="ttl" data-ttl-ms="${entry.ttlMs}" data-at="${at}">` +
    `${fmtTtl(entry.ttlMs)}</span>` +
    `${bumped ? ` <span class="up">${t("pushedBack")}</span>` : ""}` +
    `<div class="fields">${fmtFields(entry.fields)}</div></li>`;
}

function renderXray() {
  if (state.xrayOff) {
    $("xray-nodes").innerHTML = `<p class="muted">${t("xrayOff")}</p>`;
    return;
  }
  // Drawn again for a switch of language, the same reading keeps its marks.
  const before = state.drawn === state.xray ? state.before : state.seen;
  state.drawn = state.xray;
  state.before = before;
  const seen = new Map();
  const html = state.nodes.map((node) => {
    const d = state.xray.get(node);
    if (!d) {
      return `<div class="xnode" data-node="${esc(node)}"><h3>${esc(node)}</h3>` +
        `<p class="muted">${t("notReached")}</p></div>`;
    }
    const m = d.memory;
    const items = m.entries.map((e) => {
      seen.set(e.key, { ttlMs: e.ttlMs, at: d.at });
      return keyItem(e, d.at, before);
    });
    const body = d.store === "redis"
      ? `<p class="muted">${t("holdsNothing")}</p>`
      : `<p class="counts">${t("counts", m)}</p>` +
        (items.length ? `<ul>${items.join("")}</ul>` : `<p class="muted">${t("nothingHere")}</p>`);
    return `<div class="xnode" data-node="${esc(node)}"><h3>${esc(node)}</h3>${body}</div>`;
  });
  $("xray-nodes").innerHTML = html.join("");
  // In redis mode every node reads the same keys: the latest answer shows them.
  const redis = [...state.xray.values()].filter((d) => d.redis).sort((a, b) => b.at - a.at)[0];
  if (redis) {
    const items = redis.redis.map((e) => {
      seen.set(e.key, { ttlMs: e.ttlMs, at: redis.at });
      return keyItem(e, redis.at, before);
    });
    $("xray-redis").innerHTML = `<div class="xredis"><h3>${t("redisBox")}</h3>` +
      (items.length ? `<ul>${items.join("")}</ul>` : `<p class="muted">${t("noKey")}</p>`) + "</div>";
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
    el.textContent = left > 0 ? fmtTtl(left) : t("expired");
  });
}, 200);

// --- what just happened ----------------------------------------------------

function explain() {
  const p = [];
  const store = state.store;
  const memory = store === "memory";
  const redis = store === "redis";
  const replicated = store === "replicated";
  const sticky = (state.strategy || "").startsWith("sticky");
  const phone = esc($("phone").value.trim());
  if (memory) {
    p.push(t("memory"));
    if (sticky) p.push(t("sticky"));
  } else if (replicated) {
    p.push(t("replicated"));
  } else if (redis) {
    p.push(t("redis"));
  }
  const kind = memory ? "memory" : replicated ? "replicated" : "redis";
  if (state.sentBy) p.push(t("codeStored", esc(state.sentBy), phone, kind));
  const login = state.login;
  if (login && !login.ok && isWrongCode(login.msg)) {
    p.push(memory && login.node !== state.sentBy ? t("wrongNode", esc(login.node), esc(state.sentBy)) : t("wrongCode"));
  } else if (login && login.ok) {
    const missed = login.tries.slice(0, -1);
    if (missed.length) p.push(t("retried", login.tries.length, list(missed)));
    const codeFrom = redis && login.node !== state.sentBy ? esc(state.sentBy) : "";
    p.push(t("loginOk", esc(login.node), codeFrom, kind));
  }
  if (state.logout) {
    const { node, ok } = state.logout;
    if (memory && !ok) p.push(t("logoutMissed", esc(node), esc(state.sessionNode)));
    else if (memory && ok) p.push(t("logoutLocal", esc(node)));
    else if (ok) p.push(t("logoutShared", esc(node), store));
  }
  if (state.rows.length) {
    const found = state.rows.filter((r) => r.found);
    const lost = state.rows.filter((r) => !r.found);
    const nodes = (rows) => [...new Set(rows.map((r) => r.node))].sort();
    if (!lost.length) {
      p.push(t("allFound", list(nodes(found)), store));
    } else if (!found.length) {
      p.push(state.logout && state.logout.ok ? t("noneLoggedOut") : t("noneFound"));
    } else {
      p.push(t("someFound", list(nodes(found)), list(nodes(lost))));
    }
  }
  $("explain").innerHTML = p.map((x) => `<p>${x}</p>`).join("") || `<p class="muted">${t("start")}</p>`;
}

// --- start -----------------------------------------------------------------

document.querySelectorAll("[data-i18n]").forEach((el) => { EN.set(el.dataset.i18n, el.innerHTML); });
document.querySelectorAll("[data-i18n-aria]").forEach((el) => {
  EN.set(el.dataset.i18nAria, el.getAttribute("aria-label"));
});
EN.set("page", document.title);
document.querySelectorAll(".lang button").forEach((b) => {
  b.addEventListener("click", () => setLang(b.dataset.lang, true));
});
setLang(initialLang(), false);

$("phone").value = randomPhone();
$("send").addEventListener("click", () => act(sendCode));
$("use-code").addEventListener("click", () => { $("code").value = $("sms").dataset.code || ""; });
$("login").addEventListener("click", () => act(logIn));
$("login-holder").addEventListener("click", () => act(logInOnHolder));
$("me10").addEventListener("click", () => act(meTimesTen));
$("logout").addEventListener("click", () => act(logOut));
$("xray-refresh").addEventListener("click", () => act(xray));
act(discover);
