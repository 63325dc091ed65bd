/* The customer tracker's one renderer: frames of one order's room in, the changed parts of the page out.
 *
 * The page (dashboard/pages/track.py) draws the skeleton once, in the viewer's language, with the
 * names of its line's stations, options and measurements; frames carry ids and times only, and
 * every time is shown in the viewer's own zone.
 */
(function () {
  "use strict";
  var tf = window.tf = window.tf || {};
  var NO_UPDATE = function () { return window.dash_clientside.no_update; };
  var MOVE_MIN_MS = 5 * 60 * 1000;

  // The renderer: frames of the room in (room.receive), the page drawn. listen() gives it the
  // page's own socket (tf.Socket, as the floor's), so frames come straight to it with no socket
  // component in between; without it (tf.TrackerView) it draws only what it is given.
  function Tracker(settings) {
    this.settings = settings;
    // With a push gateway (settings.push_url) the socket and its resync go there: one server's frames.
    this.room = new tf.Room((settings.push_url || "") + "/api/live/order/" + encodeURIComponent(settings.token),
                            this.draw.bind(this));
    this.connected = false;
    this.socket = null;
  }
  tf.TrackerView = Tracker;

  Tracker.prototype.listen = function () {
    var self = this;
    this.page = document.querySelector(".page.track");
    this.socket = new tf.Socket({ view: "track", token: this.settings.token }, {
      connect: function () { self.connection(true); },
      disconnect: function () { self.connection(false); },
      refused: function () { self.connection(false); },  // the order is no longer live here: keep what is shown
      event: function (name, frame) { if (name === "order") { self.room.receive(frame); } }
    }, this.settings.push_url);
    // Leaving the page inside the app (the browser's back button) ends its socket.
    this.timer = setInterval(function () {
      if (self.page && !document.body.contains(self.page)) { self.stop(); }
    }, 1000);
    return this;
  };

  Tracker.prototype.connection = function (connected) {
    var t = this.settings.texts, node = document.getElementById("track-status");
    this.connected = connected;
    tf.setText(node, connected ? t.live : t.reconnecting);
    tf.setClass(node, connected ? "freshness live" : "freshness offline");
  };

  Tracker.prototype.stop = function () {
    clearInterval(this.timer);
    if (this.socket) { this.socket.close(); }
  };

  Tracker.prototype.headline = function (v) {
    var t = this.settings.texts, n = this.settings.names.stations;
    if (v.current_station) { return t.at.replace("{}", n[v.current_station] || v.current_station); }
    if (v.waiting_for) { return t.next.replace("{}", n[v.waiting_for] || v.waiting_for); }
    return t[v.status] || v.status;
  };

  Tracker.prototype.etaLines = function (v) {
    var t = this.settings.texts, loc = this.settings.locale, lines = [];
    if (v.units_ahead > 0) { lines.push(v.units_ahead === 1 ? t.ahead_one : tf.fill(t.ahead, { n: v.units_ahead })); }
    if (v.eta) {
      var f = v.eta.finish;
      var template = v.status === "completed" ? t.finished : tf.when(f.expected, loc) === tf.when(f.latest, loc) ? t.finish_one : t.finish;
      lines.push(tf.fill(template, { expected: tf.when(f.expected, loc), earliest: tf.when(f.earliest, loc), latest: tf.when(f.latest, loc) }));
      if (v.eta.ship) { lines.push(tf.fill(t.ship, { expected: tf.when(v.eta.ship.expected, loc) })); }
      if (v.eta.reason) { lines.push("⚠ " + this.reason(v.eta.reason)); }
      if (this.move && v.status !== "completed") {
        var m = this.move, why = m.reason ? this.reason(m.reason) : (m.later ? t.pace_slower : t.pace_faster);
        lines.push(tf.fill(m.later ? t.moved_later : t.moved_earlier, { by: tf.lastedText(Math.abs(m.by_s)), why: why }));
      }
    }
    if (v.shipping) {
      lines.push(tf.fill(t.shipped_with, { carrier: v.shipping.carrier, date: tf.date(v.shipping.estimated_delivery, loc) }));
    }
    return lines;
  };

  // A slip's reason arrives as data (factory/eta.py) and is worded here, times in the viewer's zone.
  Tracker.prototype.reason = function (r) {
    var t = this.settings.texts, n = this.settings.names;
    if (typeof r === "string") { return r; }
    if (r.code === "station_down") {
      return tf.fill(t.reason_down, { station: n.stations[r.station] || r.station, time: tf.clock(r.since, this.settings.locale),
                                      why: r.reason_code ? " (" + (n.reasons[r.reason_code] || r.reason_code) + ")" : "" });
    }
    return tf.fill(t["reason_" + r.code] || r.code, { stop: r.stop || "" });
  };

  // A finish time that leaves the range shown before is a move the customer is told about, with
  // its reason (a station down, a stop) or, with none, that the line's pace changed. The range
  // shown stays the reference until then, so slow drift is caught as well as a jump. Moves under
  // five minutes are not news to a customer (times are shown to the minute, and a range of
  // standard times has no width).
  Tracker.prototype.noteMove = function (v) {
    var f = v.eta && v.eta.finish;
    if (!f || v.status === "completed") { this.shown = null; this.move = null; return; }
    var now = { earliest: Date.parse(f.earliest), expected: Date.parse(f.expected), latest: Date.parse(f.latest) };
    var shown = this.shown;
    var beyond = shown && (now.expected > shown.latest || now.expected < shown.earliest);
    if (beyond && Math.abs(now.expected - shown.expected) >= MOVE_MIN_MS) {
      this.move = { by_s: (now.expected - shown.expected) / 1000, later: now.expected > shown.expected, reason: v.eta.reason };
      shown = null;
    }
    if (!shown) { this.shown = now; }
  };

  Tracker.prototype.draw = function (v, previous) {
    var loc = this.settings.locale;
    this.noteMove(v);
    tf.setText(document.getElementById("track-headline"), this.headline(v));
    var eta = document.getElementById("track-eta");
    var lines = this.etaLines(v);
    if (eta && (!previous || !tf.same(this.lastEta, lines))) {
      this.lastEta = lines;
      eta.replaceChildren.apply(eta, lines.map(function (text) { return tf.el("div", { text: text }); }));
    }
    v.steps.forEach(function (step, i) {
      if (previous && tf.same(previous.steps[i], step)) { return; }
      var node = document.querySelector('.step[data-station="' + step.id + '"]');
      if (!node) { return; }
      tf.setClass(node, "step step-" + step.state);
      tf.setText(node.querySelector(".step-time"),
                 step.entered ? tf.clock(step.entered, loc) + (step.exited ? " – " + tf.clock(step.exited, loc) : "") : "");
    });
    var parts = document.getElementById("track-parts");
    if (parts && (!previous || !tf.same(previous.components, v.components))) {
      var t0 = this.settings.texts, names = this.settings.names.components || {};
      parts.replaceChildren.apply(parts, (v.components || []).map(function (c) {
        return tf.el("li", { text: tf.fill(t0.part_line, { name: names[c.component] || c.component, supplier: c.supplier,
                                                          batch: c.batch, serial: c.serial }) });
      }));
      tf.setClass(document.getElementById("track-parts-none"), (v.components || []).length ? "muted hidden" : "muted");
    }
    var tests = document.getElementById("track-tests");
    if (tests && (!previous || !tf.same(previous.tests, v.tests))) {
      var t = this.settings.texts;
      var passed = v.tests.filter(function (x) { return x.passed; }).length;
      tf.setText(tests, v.tests.length ? tf.fill(t.tests_done, { n: v.tests.length, passed: passed }) : t.tests_none);
    }
  };

  var current = null;
  function trackerFor(settings) {  // one renderer per drawn page
    if (!current || current.settings !== settings) {
      if (current) { current.stop(); }
      current = new Tracker(settings).listen();
    }
    return current;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    tf_track: {
      start: function (settings) {  // once per drawn page: the renderer connects its own socket
        if (settings) { trackerFor(settings); }
        return NO_UPDATE();
      }
    }
  });
})();
