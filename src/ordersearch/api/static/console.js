// ordersearch console: vanilla JavaScript over the JSON API, no build step.
//
// The signed-in user's Basic credentials live in sessionStorage (this tab only) and go with
// every fetch as an Authorization header. Fetches use credentials: "omit" so that a 401
// (which carries WWW-Authenticate: Basic) never opens the browser's own password dialog.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("console-config").textContent);
  const AUTH_KEY = "ordersearch.console.auth";
  const ACCOUNT_KEY = "ordersearch.console.account";
  const NUMERIC = new Set(["orderId", "customerId", "enquiryId", "amount", "creatorId", "assignId",
    "zoneId", "blockId", "unitId", "approvalDesignationId", "approvedById"]);
  const PALETTE = ["#0ba5ec", "#7a5af8", "#ee46bc", "#12b76a", "#667085", "#2f5bd3", "#f04438",
    "#84cc16", "#a15c07", "#f79009"];

  // --- small helpers -------------------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function basicToken(username, password) {
    const bytes = new TextEncoder().encode(`${username}:${password}`);
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary);
  }

  function formatValue(value) {
    if (value === null || value === undefined || value === "") return null;
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  class ApiError extends Error {
    constructor(status, message, errors = []) {
      super(message);
      this.status = status;
      this.errors = errors;
    }
  }

  async function failure(response) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    let message = (body && body.message) || `${response.status} ${response.statusText}`;
    const retry = response.headers.get("Retry-After");
    if (response.status === 429 && retry) message += ` (try again in ${retry} s)`;
    return new ApiError(response.status, message, (body && body.errors) || []);
  }

  // One call of the JSON API with the stored credentials; a 401 signs the user out.
  async function api(path, { body, method = body === undefined ? "GET" : "POST", signal } = {}) {
    const token = sessionStorage.getItem(AUTH_KEY);
    if (!token) { goToSignIn(); throw new ApiError(401, "Not signed in"); }
    const headers = { Authorization: `Basic ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, credentials: "omit", signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      signOut("Your session is no longer valid; please sign in again.");
      throw await failure(response);
    }
    if (!response.ok) throw await failure(response);
    return response;
  }

  function goToSignIn(message) {
    if (message) sessionStorage.setItem("ordersearch.console.notice", message);
    window.location.replace(config.paths.signIn);
  }

  function signOut(message) {
    sessionStorage.removeItem(AUTH_KEY);
    sessionStorage.removeItem(ACCOUNT_KEY);
    goToSignIn(message);
  }

  // --- sign-in page ----------------------------------------------------------------------

  function initSignIn() {
    const form = $("#sign-in-form");
    const errorBox = $("#sign-in-error");
    const notice = sessionStorage.getItem("ordersearch.console.notice");
    if (notice) {
      sessionStorage.removeItem("ordersearch.console.notice");
      errorBox.textContent = notice;
      errorBox.hidden = false;
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      errorBox.hidden = true;
      const username = form.username.value.trim();
      const password = form.password.value;
      if (!username || !password) {
        errorBox.textContent = "Enter a username and a password.";
        errorBox.hidden = false;
        return;
      }
      const button = $("button[type=submit]", form);
      button.disabled = true;
      try {
        const token = basicToken(username, password);
        const response = await fetch(config.paths.me, {
          headers: { Authorization: `Basic ${token}` }, credentials: "omit",
        });
        if (!response.ok) {
          const error = await failure(response);
          errorBox.textContent = response.status === 401
            ? "Wrong username or password (or the user is disabled)." : error.message;
          errorBox.hidden = false;
          return;
        }
        sessionStorage.setItem(AUTH_KEY, token);
        sessionStorage.setItem(ACCOUNT_KEY, JSON.stringify(await response.json()));
        window.location.assign(config.paths.console);
      } catch (error) {
        errorBox.textContent = `Could not reach the server: ${error.message}`;
        errorBox.hidden = false;
      } finally {
        button.disabled = false;
      }
    });
  }

  // --- console page ----------------------------------------------------------------------

  const state = {
    account: null,
    base: null,       // the filters + view + sort of the current search (no paging keys)
    cursors: [null],  // cursors of the pages visited; the last is the page shown
    nextCursor: null,
    limit: 25,
    searchId: 0,
    chartAbort: null,
  };

  async function initConsole() {
    if (!sessionStorage.getItem(AUTH_KEY)) { goToSignIn(); return; }
    try {
      const account = await (await api(config.paths.me)).json();
      state.account = account;
      sessionStorage.setItem(ACCOUNT_KEY, JSON.stringify(account));
      $("#account-name").textContent = account.name;
      $("#account-cmid").textContent = `cmId ${account.cmId}`;
      $("#account-user").textContent = `${account.username} · ${account.role} · ${account.timezone}`;
      $("#account").hidden = false;
    } catch (error) {
      if (error.status !== 401) showError(error);
      return;
    }
    $("#sign-out").addEventListener("click", () => signOut());
    $("#search-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });
    $("#clear-filters").addEventListener("click", clearFilters);
    $("#next-page").addEventListener("click", () => {
      if (!state.nextCursor) return;
      state.cursors.push(state.nextCursor);
      loadPage();
    });
    $("#prev-page").addEventListener("click", () => {
      if (state.cursors.length < 2) return;
      state.cursors.pop();
      loadPage();
    });
    $("#viewId").addEventListener("change", () => { if (state.base) search({ chart: false }); });
    for (const id of ["#sort-field", "#sort-direction"]) {
      $(id).addEventListener("change", () => { if (state.base) search({ chart: false }); });
    }
    $("#download-csv").addEventListener("click", () => download("csv"));
    $("#download-ndjson").addEventListener("click", () => download("ndjson"));
    $("#detail-close").addEventListener("click", closeDetail);
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeDetail(); });
    for (const map of $$("[data-map]")) {
      $(".add-map-row", map).addEventListener("click", () => addMapRow(map));
      addMapRow(map);
    }
    $("#search-form").addEventListener("input", updateGroupCounts);
  }

  function addMapRow(map, key = "", value = "") {
    const row = el("div", { class: "map-row" },
      el("input", { type: "text", class: "map-key", placeholder: "key", "aria-label": "field key",
        value: key, autocomplete: "off" }),
      el("input", { type: "text", class: "map-value", placeholder: "value",
        "aria-label": "field value", value, autocomplete: "off" }),
      el("button", { type: "button", class: "btn btn-ghost btn-small", title: "Remove",
        "aria-label": "Remove field", onclick: () => { row.remove(); updateGroupCounts(); } }, "\u00d7"));
    $(".map-rows", map).append(row);
  }

  function clearFilters() {
    for (const input of $$("#search-form input")) input.value = "";
    for (const map of $$("[data-map]")) { $(".map-rows", map).replaceChildren(); addMapRow(map); }
    updateGroupCounts();
  }

  function updateGroupCounts() {
    for (const group of $$("#search-form details.group")) {
      const filled = $$("input", group).filter((input) => input.value.trim() !== "").length;
      $(".count", group).textContent = filled ? `${filled} set` : "";
    }
  }

  // The filters of the form as a Pull body (blank fields left out).
  function collectFilters() {
    const body = {};
    for (const input of $$("#search-form input[name][data-filter]")) {
      const value = input.value.trim();
      if (value !== "") body[input.name] = value;
    }
    for (const map of $$("[data-map]")) {
      const pairs = {};
      for (const row of $$(".map-row", map)) {
        const key = $(".map-key", row).value.trim();
        if (key) pairs[key] = $(".map-value", row).value.trim();
      }
      if (Object.keys(pairs).length) body[map.dataset.map] = pairs;
    }
    return body;
  }

  function currentSort() {
    return `${$("#sort-field").value} ${$("#sort-direction").value}`;
  }

  function search({ chart = true } = {}) {
    clearMessages();
    const limit = Number.parseInt($("#limit").value, 10);
    state.limit = Number.isFinite(limit) ? limit : 25;
    state.base = {
      cmId: state.account.cmId,
      ...collectFilters(),
      viewId: Number($("#viewId").value),
      sortParam: currentSort(),
    };
    state.cursors = [null];
    state.searchId += 1;
    loadPage();
    if (chart) drawChart(state.searchId);
  }

  async function loadPage() {
    const searchId = state.searchId;
    const cursor = state.cursors[state.cursors.length - 1];
    const body = { ...state.base, limit: state.limit, includeTotal: true };
    if (cursor) body.cursor = cursor;
    const card = $(".table-card");
    card.classList.add("loading");
    try {
      const answer = await (await api(config.paths.pull, { body })).json();
      if (searchId !== state.searchId) return;
      clearMessages();
      showWarnings(answer.warnings || []);
      state.nextCursor = answer.nextCursor || null;
      renderTable(answer);
      $("#download-csv").disabled = false;
      $("#download-ndjson").disabled = false;
    } catch (error) {
      if (searchId !== state.searchId) return;
      showError(error);
      renderTable(null);
    } finally {
      card.classList.remove("loading");
    }
  }

  function renderTable(answer) {
    const table = $("#results-table");
    const thead = $("thead", table);
    const tbody = $("tbody", table);
    const pageIndex = state.cursors.length - 1;
    $("#prev-page").disabled = !answer || pageIndex === 0;
    $("#next-page").disabled = !answer || !state.nextCursor;
    if (!answer) {
      thead.replaceChildren();
      tbody.replaceChildren();
      $("#summary").textContent = "Results";
      $("#page-label").textContent = "";
      return;
    }
    const view = String(state.base.viewId);
    const columns = config.views[view];
    const [sortField, sortDirection] = state.base.sortParam.split(" ");
    thead.replaceChildren(el("tr", {}, columns.map((column) => {
      if (!config.sortable.includes(column)) return el("th", { scope: "col" }, column);
      const active = column === sortField;
      return el("th", {
        scope: "col", "data-column": column,
        "aria-sort": active ? (sortDirection === "asc" ? "ascending" : "descending") : "none",
      }, el("button", {
        type: "button", class: "sort-button", title: `Sort by ${column}`,
        onclick: () => sortBy(column),
      }, column));
    })));
    const orders = answer.orders || [];
    if (!orders.length) {
      tbody.replaceChildren(el("tr", { class: "empty" },
        el("td", { colspan: columns.length }, "No order matches these filters.")));
    } else {
      tbody.replaceChildren(...orders.map((order) => el("tr", {
        "data-order-id": order.orderId, onclick: () => openDetail(order.orderId),
      }, columns.map((column) => cell(column, order[column])))));
    }
    const first = pageIndex * state.limit + 1;
    const last = pageIndex * state.limit + orders.length;
    const total = answer.totalCount;
    const totalText = total === null || total === undefined ? "" : ` of ${total.toLocaleString("en")}`;
    $("#summary").textContent = orders.length
      ? `Orders ${first.toLocaleString("en")}\u2013${last.toLocaleString("en")}${totalText}`
      : `No orders${totalText ? ` (${total} in total)` : ""}`;
    $("#page-label").textContent = `page ${pageIndex + 1}`;
  }

  function cell(column, value) {
    const text = formatValue(value);
    const attrs = { class: NUMERIC.has(column) ? "num" : null };
    if (text === null) return el("td", attrs, el("span", { class: "null" }, "\u2014"));
    if (column === "orderId") {
      return el("td", attrs, el("a", {
        href: `#order-${text}`, class: "order-link",
        onclick: (event) => { event.preventDefault(); },
      }, text));
    }
    if (column === "bookingStatus") return el("td", attrs, el("span", { class: "status" }, text));
    return el("td", attrs, text);
  }

  function sortBy(column) {
    const [field, direction] = state.base.sortParam.split(" ");
    $("#sort-field").value = column;
    $("#sort-direction").value = field === column && direction === "asc" ? "desc" : "asc";
    search({ chart: false });
  }

  // --- messages --------------------------------------------------------------------------

  function clearMessages() {
    $("#messages").replaceChildren();
    for (const node of $$(".invalid")) node.classList.remove("invalid");
  }

  function showError(error) {
    const fieldErrors = error.errors || [];
    $("#messages").append(el("div", { class: "alert alert-error", role: "alert" },
      el("strong", {}, error.status ? `Error ${error.status}: ` : "Error: "),
      fieldErrors.length ? "the request was refused." : error.message,
      fieldErrors.length ? el("ul", {}, fieldErrors.map((item) =>
        el("li", {}, el("code", {}, item.field), ": ", item.message))) : null));
    for (const item of fieldErrors) {
      const input = $(`#search-form [data-filter="${CSS.escape(item.field)}"]`);
      if (input) {
        input.classList.add("invalid");
        const group = input.closest("details");
        if (group) group.open = true;
      }
    }
  }

  function showWarnings(warnings) {
    if (!warnings.length) return;
    $("#messages").append(el("div", { class: "alert alert-warn" },
      el("strong", {}, "Warnings"), el("ul", {}, warnings.map((w) => el("li", {}, w)))));
  }

  // --- order detail ----------------------------------------------------------------------

  async function openDetail(orderId) {
    const panel = $("#detail");
    const body = $("#detail-body");
    $("#detail-title").textContent = `Order ${orderId}`;
    body.replaceChildren(el("p", { class: "muted" }, "Loading\u2026"));
    panel.hidden = false;
    try {
      const answer = await (await api(config.paths.pull, {
        body: { cmId: state.account.cmId, orderIds: String(orderId), viewId: 3, limit: 1,
          includeTotal: false },
      })).json();
      const order = (answer.orders || [])[0];
      if (!order) {
        body.replaceChildren(el("p", {}, "This order no longer exists."));
        return;
      }
      renderDetail(order);
    } catch (error) {
      body.replaceChildren(el("div", { class: "alert alert-error" }, error.message));
    }
  }

  function keyValues(object, skip = []) {
    const entries = Object.entries(object || {})
      .filter(([key, value]) => !skip.includes(key) && formatValue(value) !== null);
    if (!entries.length) return el("p", { class: "muted" }, "None.");
    return el("dl", { class: "kv" }, entries.map(([key, value]) =>
      [el("dt", {}, key), el("dd", {}, formatValue(value))]));
  }

  function miniTable(rows, columns, numeric = []) {
    if (!rows || !rows.length) return el("p", { class: "muted" }, "None.");
    return el("table", { class: "mini-table" },
      el("thead", {}, el("tr", {}, columns.map((c) =>
        el("th", { class: numeric.includes(c) ? "num" : null }, c)))),
      el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((c) =>
        el("td", { class: numeric.includes(c) ? "num" : null }, formatValue(row[c]) ?? "\u2014"))))));
  }

  function renderDetail(order) {
    const customer = order.customer || {};
    const summary = {
      erpOrderId: order.erpOrderId, bookingStatus: order.bookingStatus,
      bookingSubStatus: order.bookingSubStatus, createDate: order.createDate,
      bookingDate: order.bookingDate, amount: order.amount && `${order.amount} ${order.currency || ""}`,
    };
    const shown = new Set([...Object.keys(summary), "currency", "items", "customer", "enquiry",
      "additionalFields", "orderId"]);
    const rest = Object.fromEntries(Object.entries(order).filter(([key]) => !shown.has(key)));
    $("#detail-body").replaceChildren(
      el("section", { class: "detail-section", "data-section": "order" },
        el("h3", {}, "Order"), keyValues(summary)),
      el("section", { class: "detail-section", "data-section": "customer" },
        el("h3", {}, "Customer"), keyValues(customer, ["contacts", "additionalFields"])),
      customer.additionalFields ? el("section", { class: "detail-section",
        "data-section": "customer-fields" }, el("h3", {}, "Customer's additional fields"),
      keyValues(customer.additionalFields)) : null,
      el("section", { class: "detail-section", "data-section": "contacts" },
        el("h3", {}, "Contacts"), miniTable(customer.contacts, ["contactId", "name", "phone", "email"])),
      el("section", { class: "detail-section", "data-section": "enquiry" },
        el("h3", {}, "Enquiry"), order.enquiry ? keyValues(order.enquiry)
          : el("p", { class: "muted" }, "No enquiry.")),
      el("section", { class: "detail-section", "data-section": "items" },
        el("h3", {}, `Items (${(order.items || []).length})`),
        miniTable(order.items, ["skuId", "productName", "rate", "quantity", "discount"],
          ["rate", "quantity", "discount"])),
      el("section", { class: "detail-section", "data-section": "additional-fields" },
        el("h3", {}, "Additional fields"), keyValues(order.additionalFields)),
      el("section", { class: "detail-section", "data-section": "other" },
        el("h3", {}, "Other fields"), keyValues(rest)),
    );
  }

  function closeDetail() { $("#detail").hidden = true; }

  // --- downloads -------------------------------------------------------------------------

  async function download(format) {
    if (!state.base) return;
    const button = $(`#download-${format}`);
    button.disabled = true;
    const label = button.textContent;
    button.textContent = "\u2026";
    try {
      const response = await api(config.paths.export, { body: { ...state.base, format } });
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      const link = el("a", { href: url, download: `orders-${stamp}.${format}` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      showError(error);
    } finally {
      button.textContent = label;
      button.disabled = false;
    }
  }

  // --- chart: orders per month by booking status ------------------------------------------

  async function drawChart(searchId) {
    if (state.chartAbort) state.chartAbort.abort();
    const abort = new AbortController();
    state.chartAbort = abort;
    const chart = $("#chart");
    const note = $("#chart-note");
    chart.classList.add("loading");
    note.textContent = "reading the export\u2026";
    const counts = new Map();  // month -> Map(status -> n)
    const statuses = new Map();  // status -> n
    let rows = 0;
    let capped = false;
    try {
      const body = { ...state.base, viewId: 1, format: "ndjson" };
      delete body.sortParam;
      const response = await api(config.paths.export, { body, signal: abort.signal });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      const take = (line) => {
        if (!line.trim()) return;
        const order = JSON.parse(line);
        const month = (order.createDate || "unknown").slice(0, 7);
        const status = order.bookingStatus || "(none)";
        if (!counts.has(month)) counts.set(month, new Map());
        const byStatus = counts.get(month);
        byStatus.set(status, (byStatus.get(status) || 0) + 1);
        statuses.set(status, (statuses.get(status) || 0) + 1);
        rows += 1;
      };
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const lines = buffer.split("\n");
        buffer = lines.pop();
        for (const line of lines) {
          if (rows >= config.chartRowCap) { capped = true; break; }
          take(line);
        }
        if (capped) { await reader.cancel(); break; }
      }
      if (!capped) take(buffer + decoder.decode());
    } catch (error) {
      if (error.name === "AbortError" || searchId !== state.searchId) return;
      chart.replaceChildren(el("div", { class: "alert alert-error" }, error.message));
      note.textContent = "";
      chart.classList.remove("loading");
      return;
    }
    if (searchId !== state.searchId) return;
    chart.classList.remove("loading");
    const cap = config.chartRowCap.toLocaleString("en");
    note.textContent = capped
      ? `first ${cap} matching orders only (the chart reads at most ${cap})`
      : `${rows.toLocaleString("en")} orders, by month of createDate (account time)`;
    chart.replaceChildren(...renderChart(counts, statuses));
  }

  function monthRange(months) {
    const real = months.filter((m) => /^\d{4}-\d{2}$/.test(m)).sort();
    if (!real.length) return months;
    const out = [];
    let [year, month] = real[0].split("-").map(Number);
    const [endYear, endMonth] = real[real.length - 1].split("-").map(Number);
    while (year < endYear || (year === endYear && month <= endMonth)) {
      out.push(`${year}-${String(month).padStart(2, "0")}`);
      month += 1;
      if (month > 12) { month = 1; year += 1; }
      if (out.length > 600) break;
    }
    return months.includes("unknown") ? [...out, "unknown"] : out;
  }

  function svg(tag, attrs = {}, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A status keeps its colour from one search to the next: the colour is picked by a hash
  // of its name (the next free one on a clash, the most frequent status choosing first).
  function statusColors(statuses) {
    const colors = new Map();
    const taken = new Set();
    for (const status of statuses) {
      let hash = 2166136261;  // FNV-1a
      for (const char of status.toLowerCase()) {
        hash = Math.imul(hash ^ char.codePointAt(0), 16777619) >>> 0;
      }
      let index = hash % PALETTE.length;
      for (let tries = 0; taken.has(index) && tries < PALETTE.length; tries += 1) {
        index = (index + 1) % PALETTE.length;
      }
      taken.add(index);
      colors.set(status, PALETTE[index]);
    }
    return colors;
  }

  function renderChart(counts, statuses) {
    if (!counts.size) return [el("p", { class: "muted" }, "No order matches these filters.")];
    const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const months = monthRange(Array.from(counts.keys()));
    const order = Array.from(statuses.entries()).sort((a, b) => b[1] - a[1]).map(([s]) => s);
    const colors = statusColors(order);
    const color = (status) => colors.get(status);
    const totals = months.map((m) => Array.from((counts.get(m) || new Map()).values())
      .reduce((a, b) => a + b, 0));
    const max = Math.max(1, ...totals);
    const rough = max / 4;
    const step = Math.pow(10, Math.floor(Math.log10(rough)));
    const tick = Math.max(1, [1, 2, 5, 10].map((f) => f * step).find((t) => t >= rough));
    const top = Math.ceil(max / tick) * tick;
    const W = Math.max(480, Math.round($("#chart").clientWidth || 760));
    const H = 240, left = 44, right = 12, topPad = 12, bottom = 34;
    const plotW = W - left - right, plotH = H - topPad - bottom;
    const slot = plotW / months.length;
    const barW = Math.max(1, Math.min(40, slot * 0.72));
    const y = (v) => topPad + plotH - (v / top) * plotH;
    const grid = [];
    for (let v = 0; v <= top; v += tick) {
      grid.push(svg("line", { x1: left, x2: W - right, y1: y(v), y2: y(v) }));
      grid.push(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v.toLocaleString("en")));
    }
    const labelEvery = Math.ceil(months.length / 12);
    const bars = [];
    const labels = [];
    months.forEach((month, i) => {
      const x = left + i * slot + (slot - barW) / 2;
      let base = 0;
      const byStatus = counts.get(month) || new Map();
      for (const status of order) {
        const n = byStatus.get(status) || 0;
        if (!n) continue;
        bars.push(svg("rect", {
          class: "bar", x: x.toFixed(1), y: y(base + n).toFixed(1), width: barW.toFixed(1),
          height: Math.max(0.5, y(base) - y(base + n)).toFixed(1), fill: color(status),
          "data-month": month, "data-status": status, "data-count": n,
        }, svg("title", {}, `${month} \u00b7 ${status}: ${n}`)));
        base += n;
      }
      if (i % labelEvery === 0) {
        const [yy, mm] = month.split("-");
        const text = mm ? `${MONTHS[Number(mm) - 1]} ${yy.slice(2)}` : month;
        labels.push(svg("text", { x: (x + barW / 2).toFixed(1), y: H - bottom + 16,
          "text-anchor": "middle" }, text));
      }
    });
    const chart = svg("svg", {
      viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": "Matching orders per month, stacked by booking status",
    },
    svg("g", { class: "grid axis" }, grid),
    svg("g", { class: "bars" }, bars),
    svg("g", { class: "axis" }, labels));
    const legend = el("div", { class: "legend" }, order.map((status) =>
      el("span", { style: `--swatch: ${color(status)}` },
        `${status} (${statuses.get(status).toLocaleString("en")})`)));
    return [chart, legend];
  }

  // --- start ---------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    if (document.body.classList.contains("page-sign-in")) initSignIn();
    else if (document.body.classList.contains("page-console")) initConsole();
  });
})();
