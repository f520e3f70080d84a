// Brigade kitchen display: a live board over a websocket.
// Every (re)connect starts with the whole board; each card update replaces the card with the same id
// unless the screen already holds a newer version, so replays and reconnects never duplicate a card.
// The status pill always says how fresh the board is; a disconnected board is greyed and says so.
// Cards flow in newspaper columns (CSS multi-column); the columns past the screen's right edge are the next
// pages, shown by sliding the board one screen width; cards off the page shown are inert, so no stray tap bumps them.
(function () {
  "use strict";

  var layout, board, allDayList, statusEl, staleEl, emptyEl, countEl, clockEl;
  var pagerEl, pageLabelEl, prevEl, nextEl;
  var page = 0, pages = 1;
  var arrived = []; // cards new since the last layout
  var newOffPage = false; // a ticket arrived on a later page than the one shown
  var socket = null;
  var versions = Object.create(null); // card id -> newest version seen (kept for removed cards too)
  var lastMessageAt = 0;
  var connected = false;
  var live = true;
  var retryDelay = 500;
  var clockOffset = 0; // server time minus this screen's time, ms
  var yellowMs, redMs, heartbeatMs, timezone;

  function now() { return Date.now() + clockOffset; }

  function parseFraction(text) {
    var parts = (text || "0/1").split("/");
    return { n: parseInt(parts[0], 10) || 0, d: parseInt(parts[1], 10) || 1 };
  }

  function gcd(a, b) { return b ? gcd(b, a % b) : Math.abs(a); }

  function fractionLabel(n, d) {
    var g = gcd(n, d) || 1;
    n /= g; d /= g;
    if (d === 1) return String(n);
    var whole = Math.floor(n / d), rest = n % d;
    return (whole ? whole + " " : "") + rest + "/" + d;
  }

  function recountAllDay() {
    var totals = Object.create(null), order = [];
    board.querySelectorAll(".ticket:not(.kind-void) .tline[data-open='1']").forEach(function (line) {
      var name = line.getAttribute("data-item"), q = parseFraction(line.getAttribute("data-qty"));
      if (!totals[name]) { totals[name] = { n: 0, d: 1 }; order.push(name); }
      var t = totals[name];
      t.n = t.n * q.d + q.n * t.d; t.d = t.d * q.d;
      var g = gcd(t.n, t.d) || 1; t.n /= g; t.d /= g;
    });
    order.sort(function (a, b) {
      var x = totals[a].n / totals[a].d, y = totals[b].n / totals[b].d;
      return y - x || (a < b ? -1 : a > b ? 1 : 0);
    });
    allDayList.textContent = "";
    if (!order.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = "Nothing to make";
      allDayList.appendChild(empty);
    }
    order.forEach(function (name) {
      var li = document.createElement("li"), qty = document.createElement("span"), label = document.createElement("span");
      qty.className = "qty"; qty.textContent = fractionLabel(totals[name].n, totals[name].d);
      label.className = "name"; label.textContent = name;
      li.appendChild(qty); li.appendChild(label);
      allDayList.appendChild(li);
    });
  }

  function cards() { return board.querySelectorAll(".ticket"); }

  function afterChange() {
    var count = cards().length;
    if (countEl) countEl.textContent = String(count);
    updateEmpty();
    recountAllDay();
    tick();
    paginate();
  }

  function px(value) { var n = parseFloat(value); return isNaN(n) ? 0 : n; }

  function paginate() {
    // One page is one board width of columns plus the gap after the last one: column k*N starts at k*(width+gap).
    var style = getComputedStyle(board);
    var padLeft = px(style.paddingLeft);
    var step = board.clientWidth - padLeft - px(style.paddingRight) + px(style.columnGap);
    if (step <= 0) return;
    labelContinuations();
    var origin = board.getBoundingClientRect().left + padLeft; // moves with the board's slide, as the cards do
    var spans = [], last = 0;
    cards().forEach(function (card) {
      var first = -1, end = -1;
      // a card continued into the next column has one rectangle per column
      Array.prototype.forEach.call(card.getClientRects(), function (rect) {
        if (!rect.width || !rect.height) return;
        var at = Math.max(0, Math.floor((rect.left - origin + 1) / step));
        if (first < 0 || at < first) first = at;
        if (at > end) end = at;
      });
      if (first < 0) first = end = 0;
      spans.push([card, first, end]);
      if (end > last) last = end;
    });
    pages = last + 1;
    if (page > pages - 1) page = pages - 1;
    if (page < 0) page = 0;
    spans.forEach(function (span) {
      var shown = span[1] <= page && page <= span[2];
      span[0].inert = !shown;
      if (span[1] > page && arrived.indexOf(span[0]) >= 0) newOffPage = true;
    });
    arrived = [];
    if (page === pages - 1) newOffPage = false;
    board.style.transform = page ? "translateX(" + (-page * step) + "px)" : "";
    renderPager(spans.length);
  }

  function labelContinuations() {
    // A ticket too tall for one column continues at the top of the next: the first line there names the table.
    board.querySelectorAll(".cont").forEach(function (el) { el.classList.remove("cont"); el.removeAttribute("data-cont"); });
    cards().forEach(function (card) {
      var rects = card.getClientRects();
      if (rects.length < 2) return;
      var label = (card.getAttribute("aria-label") || "") + " · continued";
      var columns = Array.prototype.map.call(rects, function (rect) { return Math.round(rect.left); });
      var marked = {};
      card.querySelectorAll(".tline, .parts, .ticket-actions").forEach(function (part) {
        var left = Math.round(part.getBoundingClientRect().left), column = -1;
        for (var i = 0; i < columns.length && column < 0; i++) {
          if (Math.abs(columns[i] - left) < 2) column = i;
        }
        if (column > 0 && !marked[column]) {
          marked[column] = true;
          part.classList.add("cont");
          part.setAttribute("data-cont", label);
        }
      });
    });
  }

  function renderPager(count) {
    if (!pagerEl) return;
    pagerEl.hidden = pages < 2;
    var label = "Page " + (page + 1) + " of " + pages + " · " + count + " ticket" + (count === 1 ? "" : "s");
    if (pageLabelEl.textContent !== label) pageLabelEl.textContent = label;
    prevEl.disabled = page === 0;
    nextEl.disabled = page >= pages - 1;
    nextEl.classList.toggle("has-new", newOffPage);
  }

  function turnTo(target) {
    page = Math.max(0, Math.min(pages - 1, target));
    paginate();
  }

  function onKey(event) {
    // bump bars send plain keys; a key held with a modifier is the browser's
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var to = null;
    if (event.key === "ArrowRight" || event.key === "PageDown") to = page + 1;
    else if (event.key === "ArrowLeft" || event.key === "PageUp") to = page - 1;
    else if (event.key === "Home") to = 0;
    else if (event.key === "End") to = pages - 1;
    if (to === null) return;
    event.preventDefault();
    turnTo(to);
  }

  function updateEmpty() {
    // An empty board is only ever shown as "no open tickets" while the feed is live.
    emptyEl.hidden = !(connected && live && cards().length === 0);
  }

  function fromHtml(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function insertSorted(card) {
    var key = card.getAttribute("data-sort") || "";
    var next = null;
    cards().forEach(function (other) {
      if (!next && other !== card && (other.getAttribute("data-sort") || "") > key) next = other;
    });
    board.insertBefore(card, next);
  }

  function applyCard(message) {
    var known = versions[message.id];
    if (known !== undefined && message.version <= known) return; // a replay or an older update
    versions[message.id] = message.version;
    var existing = document.getElementById(message.id);
    if (!message.open) {
      if (existing) existing.remove();
      return;
    }
    var card = fromHtml(message.html);
    if (!card) return;
    card.classList.add(existing ? "updated" : "fresh");
    if (!existing) arrived.push(card);
    if (existing) existing.remove();
    insertSorted(card);
    if (window.htmx) window.htmx.process(card);
  }

  function applyBoard(message) {
    board.innerHTML = message.html;
    cards().forEach(function (card) {
      var v = parseInt(card.getAttribute("data-version"), 10) || 0;
      if (!(versions[card.id] > v)) versions[card.id] = v;
    });
    if (window.htmx) window.htmx.process(board);
    var recall = document.querySelector("[data-recall]");
    if (recall) recall.disabled = !message.can_recall;
  }

  function onMessage(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    lastMessageAt = Date.now();
    if (message.type === "board") {
      applyBoard(message);
    } else if (message.type === "card") {
      applyCard(message);
      var recall = document.querySelector("[data-recall]");
      if (recall && !message.open) recall.disabled = false;
    } else if (message.type === "heartbeat") {
      live = message.live !== false;
      if (message.at) clockOffset = Date.parse(message.at) - Date.now();
    }
    afterChange();
    renderStatus();
  }

  var reconnectTimer = null;

  function connect() {
    reconnectTimer = null;
    if (socket) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + layout.getAttribute("data-ws");
    var ws;
    try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    socket = ws;
    ws.onopen = function () { connected = true; live = true; retryDelay = 500; lastMessageAt = Date.now(); renderStatus(); };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      if (socket !== ws) return;
      socket = null;
      connected = false;
      renderStatus();
      keepSessionAlive();
      scheduleReconnect();
    };
    ws.onerror = function () { ws.close(); };
  }

  function drop() {
    // A socket that went quiet (network gone, server frozen) is abandoned at once, not waited on.
    var ws = socket;
    socket = null;
    connected = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(); } catch (e) { /* already closed */ }
    }
    renderStatus();
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    reconnectTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 5000);
  }

  function setStatus(kind, text) {
    statusEl.className = "kds-status " + kind;
    statusEl.textContent = text;
  }

  function ago() {
    if (!lastMessageAt) return "never";
    var seconds = Math.max(0, Math.round((Date.now() - lastMessageAt) / 1000));
    return seconds < 60 ? seconds + " s ago" : Math.floor(seconds / 60) + " min ago";
  }

  function renderStatus() {
    if (connected && lastMessageAt && Date.now() - lastMessageAt > heartbeatMs * 3) {
      drop();
      return;
    }
    var stale = !connected || !live;
    document.body.classList.toggle("disconnected", !!stale);
    staleEl.hidden = !stale;
    if (!connected) {
      setStatus("reconnecting", "Reconnecting… last update " + ago());
      staleEl.textContent = "Not connected — this board may be out of date (last update " + ago() + "). Reconnecting…";
    } else if (!live) {
      setStatus("reconnecting", "Kitchen feed interrupted — last update " + ago());
      staleEl.textContent = "The kitchen feed is interrupted; new tickets may be missing. Reconnecting…";
    } else {
      setStatus("live", "Live · last update " + ago());
    }
    updateEmpty();
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function tick() {
    var t = now();
    cards().forEach(function (card) {
      var fired = parseInt(card.getAttribute("data-fired"), 10) || t;
      // a ticket timed to finish with a slower station counts down to its fire-at time, then up from it
      var waiting = fired > t;
      card.classList.toggle("fire-later", waiting);
      var age = Math.max(0, t - fired);
      var seconds = Math.floor((waiting ? fired - t : age) / 1000);
      var label = (waiting ? "in " : "") + Math.floor(seconds / 60) + ":" + pad(seconds % 60);
      var el = card.querySelector("[data-age]");
      if (el && el.textContent !== label) el.textContent = label;
      card.classList.toggle("age-red", age >= redMs);
      card.classList.toggle("age-yellow", age >= yellowMs && age < redMs);
    });
    if (clockEl) {
      var d = new Date(t);
      try {
        clockEl.textContent = d.toLocaleTimeString("en-GB", { timeZone: timezone, hour: "2-digit", minute: "2-digit" });
      } catch (e) {
        clockEl.textContent = pad(d.getHours()) + ":" + pad(d.getMinutes());
      }
    }
  }

  function keepSessionAlive() {
    // kitchen screens stay logged in while open; the idle lock is for tablets
    fetch("/kds/ping", { credentials: "same-origin" }).then(function (response) {
      if (response.redirected || response.status === 401 || response.status === 403) window.location.href = "/login?next=" + encodeURIComponent(location.pathname);
    }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    layout = document.querySelector(".kds-layout");
    if (!layout) return;
    board = document.getElementById("board");
    allDayList = document.querySelector("[data-all-day]");
    statusEl = document.getElementById("kds-status");
    staleEl = document.querySelector("[data-stale]");
    emptyEl = document.querySelector("[data-board-empty]");
    countEl = document.querySelector("[data-open-count]");
    clockEl = document.querySelector("[data-clock]");
    pagerEl = document.querySelector("[data-pager]");
    pageLabelEl = document.querySelector("[data-page-label]");
    prevEl = document.querySelector("[data-page-prev]");
    nextEl = document.querySelector("[data-page-next]");
    prevEl.addEventListener("click", function () { turnTo(page - 1); });
    nextEl.addEventListener("click", function () { turnTo(page + 1); });
    document.addEventListener("keydown", onKey);
    if (window.ResizeObserver) new ResizeObserver(paginate).observe(document.querySelector("[data-board-viewport]"));
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(paginate);
    yellowMs = (parseInt(layout.getAttribute("data-yellow"), 10) || 480) * 1000;
    redMs = (parseInt(layout.getAttribute("data-red"), 10) || 900) * 1000;
    heartbeatMs = (parseFloat(layout.getAttribute("data-heartbeat")) || 5) * 1000;
    timezone = layout.getAttribute("data-timezone") || undefined;
    cards().forEach(function (card) { versions[card.id] = parseInt(card.getAttribute("data-version"), 10) || 0; });
    afterChange();
    connect();
    setInterval(function () { tick(); renderStatus(); }, 1000);
    setInterval(keepSessionAlive, 60000);
    window.addEventListener("offline", drop);
    window.addEventListener("online", function () { retryDelay = 500; if (!socket) { clearTimeout(reconnectTimer); connect(); } });
  });
})();
