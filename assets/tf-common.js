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
