/* What every live page shares: frames (whole views and patches), resync, times in a zone, DOM helpers.
 *
 * A room's frames are {e: epoch, s: seq, v: view} (whole) or {e, s, b: base, p: patch}
 * (web/push/frames.py). A patch applies only to the view of frame `base`; on a gap, or after a
 * server restart (a new epoch), the page fetches the room's whole frame over HTTP.
 */
(function () {
  "use strict";
  var tf = window.tf = window.tf || {};

  // Same rules as web/push/frames.py:patch.
  tf.applyPatch = function (value, change) {
    if (Object.prototype.hasOwnProperty.call(change, "=")) { return change["="]; }
    if (change["+"]) {
      var out = Object.assign({}, value);
      Object.keys(change["+"]).forEach(function (key) {
        var sub = change["+"][key];
        if (sub["-"]) { delete out[key]; } else { out[key] = tf.applyPatch(out[key], sub); }
      });
      return out;
    }
    var list = value.slice();
    Object.keys(change["*"]).forEach(function (i) { list[+i] = tf.applyPatch(list[+i], change["*"][i]); });
    return list;
  };

  // One room's view, kept current from its frames. onView(view, previous) runs for every new view.
  tf.Room = function (resyncUrl, onView) {
    this.epoch = null; this.seq = -1; this.view = null; this.receivedAt = null; this.stamp = null;
    this.resyncUrl = resyncUrl; this.onView = onView; this.resyncing = false;
  };
  tf.framesReceived = 0;  // every frame of every room: a quick way to see a page is fed (and for tests)
  tf.Room.prototype.receive = function (frame) {
    if (!frame) { return; }
    tf.framesReceived += 1;
    this.receivedAt = Date.now();
    if (frame.t) { this.stamp = frame.t; }
    if (frame.v !== undefined) {
      if (frame.e === this.epoch && frame.s < this.seq) { return; }  // an older whole view than the one shown
      this.take(frame.e, frame.s, frame.v);
      return;
    }
    if (frame.b === null || frame.b === undefined) { if (frame.e === this.epoch) { this.onView(this.view, this.view); } return; }
    if (frame.e !== this.epoch || frame.b !== this.seq) { this.resync(); return; }
    this.take(frame.e, frame.s, tf.applyPatch(this.view, frame.p));
  };
  tf.Room.prototype.take = function (epoch, seq, view) {
    var previous = this.epoch === epoch ? this.view : null;
    this.epoch = epoch; this.seq = seq; this.view = view;
    this.onView(view, previous);
  };
  tf.Room.prototype.resync = function () {
    var room = this;
    if (room.resyncing || !room.resyncUrl) { return; }
    room.resyncing = true;
    fetch(room.resyncUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (frame) { room.resyncing = false; if (frame) { room.seq = -1; room.receive(frame); } })
      .catch(function () { room.resyncing = false; });
  };

  // A Socket.IO connection without Dash in between: Engine.IO 4 over one WebSocket, the default
  // namespace, text packets only (what web/push sends). A wall screen's frames reach its renderer
  // straight from the socket; through a Dash component each one was a store update that cost
  // dash-renderer and React most of a frame's main-thread time (docs/benchmarks.md).
  // on: {connect(), disconnect(), refused(), event(name, data)}. After a drop it reconnects after
  // 1 s, doubling to 10 s, each delay jittered by ±50 % (as dashboard/components/live_socket.py).
  // base: the server's URL when it is not this page's (a customers' push gateway, tf push).
  tf.Socket = function (auth, on, base) {
    this.auth = auth; this.on = on; this.attempt = 0; this.ws = null; this.connected = false;
    this.url = (base ? base.replace(/^http/, "ws")
      : (window.location.protocol === "https:" ? "wss:" : "ws:") + "//" + window.location.host) + "/socket.io/?EIO=4&transport=websocket";
    this.stopped = false; this.watchdog = null; this.retry = null; this.timeoutMs = 45000;
    this.open();
  };
  tf.Socket.prototype.open = function () {
    var self = this;
    var ws = this.ws = new WebSocket(this.url);
    ws.onmessage = function (m) { if (self.ws === ws) { self.packet(m.data); } };
    ws.onclose = function () { if (self.ws === ws) { self.dropped(); } };
    this.alive();
  };
  tf.Socket.prototype.alive = function () {  // the server pings every interval: silence means a dead link
    var self = this;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(function () { if (self.ws) { self.ws.close(); } }, this.timeoutMs);
  };
  tf.Socket.prototype.packet = function (data) {
    if (typeof data !== "string") { return; }
    var kind = data.charAt(0);
    if (kind === "0") {  // Engine.IO open: join the default namespace with our credentials
      var open = JSON.parse(data.slice(1));
      this.timeoutMs = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
      this.alive();
      this.ws.send("40" + JSON.stringify(Object.assign({}, this.auth, { pathname: window.location.pathname })));
    } else if (kind === "2") { this.alive(); this.ws.send("3"); }  // ping, pong
    else if (kind === "1") { this.ws.close(); }
    else if (kind === "4") {
      var sub = data.charAt(1);
      if (sub === "0") { this.connected = true; this.attempt = 0; this.on.connect(); }
      else if (sub === "2") {
        var message = JSON.parse(data.slice(2).replace(/^\d*/, ""));  // [name, data]; an ack id would lead
        this.on.event(message[0], message[1]);
      } else if (sub === "4") { this.on.refused(); this.ws.close(); }  // the server refused this socket
      else if (sub === "1") { this.ws.close(); }  // the server ended it (a revoked session)
    }
  };
  tf.Socket.prototype.dropped = function () {
    var self = this;
    clearTimeout(this.watchdog);
    this.ws = null;
    if (this.connected) { this.connected = false; this.on.disconnect(); }
    if (this.stopped) { return; }
    var delay = Math.min(1000 * Math.pow(2, this.attempt), 10000) * (0.5 + Math.random());
    this.attempt += 1;
    this.retry = setTimeout(function () { self.open(); }, delay);
  };
  tf.Socket.prototype.close = function () {
    this.stopped = true;
    clearTimeout(this.retry); clearTimeout(this.watchdog);
    if (this.ws) { var ws = this.ws; this.ws = null; ws.close(); }
  };

  // Times: each viewer reads them in its own zone (or, on a wall screen, the plant's).
  var formats = {};
  function format(locale, zone, options) {
    var key = [locale, zone, JSON.stringify(options)].join("|");
    if (!formats[key]) {
      formats[key] = new Intl.DateTimeFormat(locale || undefined, Object.assign({ timeZone: zone || undefined }, options));
    }
    return formats[key];
  }
  tf.clock = function (iso, locale, zone) {  // "14:05"
    return iso ? format(locale, zone, { hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso)) : "";
  };
  tf.moment = function (iso, locale, zone) {  // "Mon, 2 Mar 2026, 10:42:17": a replay's moment, to the second
    return iso ? format(locale, zone, { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit",
                                        minute: "2-digit", second: "2-digit", hour12: false }).format(new Date(iso)) : "";
  };
  tf.when = function (iso, locale, zone) {  // the day only when it is not today
    if (!iso) { return ""; }
    var t = new Date(iso);
    var day = format(locale, zone, { year: "numeric", month: "2-digit", day: "2-digit" });
    var time = tf.clock(iso, locale, zone);
    return day.format(t) === day.format(new Date()) ? time
      : format(locale, zone, { weekday: "short", day: "numeric", month: "short" }).format(t) + " " + time;
  };
  tf.date = function (ymd, locale) {  // a calendar date (YYYY-MM-DD) as the viewer writes it
    return format(locale, "UTC", { weekday: "short", day: "numeric", month: "short" }).format(new Date(ymd + "T12:00:00Z"));
  };
  tf.fill = function (template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  };
  tf.ageText = function (seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) { return "—"; }
    seconds = Math.max(0, Math.round(seconds));
    return seconds < 90 ? seconds + " s" : Math.round(seconds / 60) + " min";
  };
  tf.lastedText = function (seconds) {  // "12 min", "1 h 05"
    var minutes = Math.max(0, Math.floor(seconds / 60));
    return minutes < 60 ? minutes + " min" : Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0");
  };

  // DOM: build once, then change only what changed.
  tf.el = function (tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") { node.textContent = props[k]; }
      else if (k === "className") { node.className = props[k]; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), props[k]); }
      else { node.setAttribute(k, props[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  };
  tf.setText = function (node, text) { if (node && node.textContent !== text) { node.textContent = text; } };
  tf.setClass = function (node, cls) { if (node && node.className !== cls) { node.className = cls; } };
  tf.same = function (a, b) { return JSON.stringify(a) === JSON.stringify(b); };
  // Make ``nodes`` the children of ``parent`` in that order, moving only the ones out of place
  // (each move of a node restyles and relays its surroundings; most frames move none).
  tf.order = function (parent, nodes) {
    nodes.forEach(function (node, i) {
      var at = parent.children[i];
      if (at !== node) { parent.insertBefore(node, at || null); }
    });
    while (parent.children.length > nodes.length) { parent.lastElementChild.remove(); }
  };

  // A page whose session ended elsewhere (a revoked wall screen) goes to the sign-in page.
  tf.checkSession = function () {
    fetch("/api/session", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (r.status === 401) { window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search)); }
    }).catch(function () {});
  };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    tf: {
      quickFilter: function (text, options) {  // the orders grid's search box, in the browser
        return Object.assign({}, options, { quickFilterText: text || "" });
      }
    }
  });

  // dash-renderer keeps an undo history of every prop a component sets itself (each pushed
  // frame, each connection change) and copies it on every change: on a wall screen that grows
  // the heap for as long as it runs. This app has no undo/redo: keep the last few entries.
  var UNDO_KEPT = 5;
  setInterval(function () {
    (window.dash_stores || []).forEach(function (store) {
      var history = store.getState().history;
      if (history && history.past && history.past.length > UNDO_KEPT) { history.past.splice(0, history.past.length - UNDO_KEPT); }
    });
  }, 5000);
})();
