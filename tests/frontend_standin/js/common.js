// A stand-in for the course's js/common.js, written for this project: its
// pages call the API as the course's do (axios with baseURL "/api", the
// sessionStorage token in `authorization`), and answers are judged as the
// course's response interceptor judges them:
//   2xx with success: true   -> the page gets the envelope (its .data);
//   2xx with success: false  -> a toast with errorMsg (the course's Result.fail);
//   401                      -> "请先登录", and off to login.html;
//   any other status         -> a toast saying only 服务器异常 ("server error").
// Every call and every toast is kept in window.stand for the browser test.
"use strict";

window.stand = { calls: [], toasts: [], pending: 0 };
const token = sessionStorage.getItem("token");

function toast(message) {
  window.stand.toasts.push(String(message));
  const box = document.createElement("div");
  box.className = "toast";
  box.textContent = String(message);
  document.getElementById("toasts").appendChild(box);
}

// The course's paramsSerializer: "&k=v" for each value that is truthy.
function serialize(params) {
  return Object.keys(params || {}).filter((k) => params[k]).map((k) => `&${k}=${params[k]}`).join("");
}

async function request(method, url, { params, body } = {}) {
  const query = serialize(params);
  const headers = {};
  if (token) headers.authorization = token;
  if (body !== undefined) headers["content-type"] = "application/json";
  const call = { method, url, status: 0, success: false };
  window.stand.calls.push(call);
  window.stand.pending++;
  try {
    const resp = await fetch("/api" + url + (query ? (url.includes("?") ? query : "?" + query) : ""), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    call.status = resp.status;
    if (resp.status === 401) {
      setTimeout(() => { location.href = "/login.html"; }, 200);
      throw "请先登录";
    }
    if (!resp.ok) throw "服务器异常";
    const envelope = await resp.json();
    call.success = envelope.success === true;
    if (!call.success) throw envelope.errorMsg;
    return envelope;
  } finally {
    window.stand.pending--;
  }
}

const axios = {
  get: (url, config) => request("GET", url, config),
  post: (url, body) => request("POST", url, { body }),
  put: (url) => request("PUT", url),
};

const util = {
  getUrlParam(name) {
    const found = new URLSearchParams(location.search).get(name);
    return found === null ? "" : found;
  },
  // Cents as yuan, as the course's page shows a voucher's price.
  formatPrice: (cents) => (cents / 100).toFixed(2),
};

// Shows one line of what a page read, so the test can see it was read.
function show(text) {
  const line = document.createElement("li");
  line.textContent = text;
  document.getElementById("shown").appendChild(line);
}

// Runs a page's calls; marks the page done when they have all settled.
function page(run) {
  Promise.resolve().then(run).catch(toast).finally(function settle() {
    if (window.stand.pending) setTimeout(settle, 20);
    else document.body.dataset.done = "1";
  });
}
