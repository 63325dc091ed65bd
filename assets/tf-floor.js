/* The floor screen's one renderer: frames of a line's room in, the changed DOM nodes out.
 *
 * The page (dashboard/pages/floor.py) draws the skeleton once: panels, KPI tiles, one tile per
 * station. Every frame patches the view kept here, and only the tiles, chips, alarms and
 * figures whose data changed are touched (chips are keyed by unit code, so a unit moving on is
 * one node moved, not a tile redrawn). A one-second timer ages the panels, greys out stale
 * ones, and in kiosk mode moves on to the next line. Grey is normal (ISA-101): only alarms get
 * a colour (style.css).
 */
(function () {
  "use strict";
  var tf = window.tf = window.tf || {};
  var NO_UPDATE = function () { return window.dash_clientside.no_update; };
  var RATIOS = { oee: 1, availability: 1, performance: 1, quality: 1, first_pass_yield: 1, plan_attainment: 1 };

  function kpiText(name, value) {
    if (value === null || value === undefined) { return "—"; }
    if (RATIOS[name]) { return (value * 100).toFixed(1) + " %"; }
    if (name === "throughput_per_hour") { return value.toFixed(1); }
    if (name.slice(-2) === "_s") { return Math.round(value) + " s"; }
    return String(value);
  }

  function Floor(settings) {
    this.settings = settings;
    this.room = new tf.Room("/api/live/floor/" + encodeURIComponent(settings.line), this.draw.bind(this));
    this.connected = false; this.everConnected = false; this.disconnectedAt = null;
    this.tiles = {}; this.stationOf = {}; this.kpisAt = null; this.rotating = false; this.startedAt = Date.now();
    this.arrivals = [];  // [when, chip] of chips highlighted as just arrived, oldest first
    var self = this;
    document.querySelectorAll(".station-tile[data-station]").forEach(function (tile) {
      self.tiles[tile.dataset.station] = { tile: tile, status: tile.querySelector(".station-status"),
        units: tile.querySelector(".station-units"), queue: tile.querySelector(".station-queue-n"), chips: {} };
    });
    this.page = document.querySelector(".page.floor");
    this.timer = setInterval(this.tick.bind(this), 1000);
    if (settings.replay) {  // a past moment: views come from history (tf-replay.js), no live socket
      this.replay = new tf.FloorReplay(this, settings.replay);
      return;
    }
    this.socket = new tf.Socket({ view: "floor", line: settings.line }, {
      connect: function () { self.connection(true); },
      disconnect: function () { self.connection(false); },
      refused: function () { tf.checkSession(); },  // a revoked screen, or a line no longer its
      event: function (name, frame) { if (name === "floor") { self.room.receive(frame); } }
    });
  }

  Floor.prototype.connection = function (connected) {
    this.connected = connected;
    if (connected) { this.everConnected = true; this.disconnectedAt = null; }
    else if (!this.disconnectedAt) {
      this.disconnectedAt = Date.now();
      // The server drops the socket of a revoked screen: ask at once why (one request),
      // then every 5 s while it stays down, rather than first waiting 5 to 10 s.
      if (this.everConnected) { tf.checkSession(); }
    }
    this.tick();
  };

  Floor.prototype.draw = function (view, previous) {
    var s = this.settings, self = this;
    var moved = {};
    view.stations.forEach(function (station, i) {
      if (previous && tf.same(previous.stations[i], station)) { return; }
      var t = self.tiles[station.id];
      if (!t) { return; }
      tf.setClass(t.tile, "station-tile state-" + station.status + (station.alert ? " alert" : ""));
      var label = s.labels[station.status] || station.status;
      tf.setText(t.status, station.status === "down" && station.down_reason ? label + ": " + station.down_reason : label);
      tf.setText(t.queue, String(station.queue));
      var keep = {};
      var chips = station.units.map(function (code) {
        keep[code] = true;
        var chip = t.chips[code];
        if (!chip) {
          var cut = code.lastIndexOf("-");
          chip = tf.el("span", { className: "unit-chip", title: code }, [
            tf.el("span", { className: "chip-prefix", text: cut >= 0 ? code.slice(0, cut + 1) : "" }),
            tf.el("span", { className: "chip-serial", text: code.slice(cut + 1) })]);
          if (self.stationOf[code] !== undefined && self.stationOf[code] !== station.id) {
            chip.className += " arrived";
            self.arrivals.push([Date.now(), chip]);
          }
          t.chips[code] = chip;
        }
        moved[code] = station.id;
        return chip;
      });
      Object.keys(t.chips).forEach(function (code) {
        if (!keep[code]) { t.chips[code].remove(); delete t.chips[code]; }
      });
      tf.order(t.units, chips);
    });
    Object.keys(moved).forEach(function (code) { self.stationOf[code] = moved[code]; });
    if (!previous || !tf.same(previous.alarms, view.alarms) || previous.as_of !== view.as_of) { this.andon(view); }
    if (!previous || !tf.same(previous.orders, view.orders)) { this.orders(view.orders || []); }
    tf.setText(document.getElementById("floor-wip"), String(view.wip));
    if (!previous || !tf.same(previous.kpis, view.kpis)) { this.kpis(view.kpis); }
    this.health();
  };

  // Alarms keyed by id: a frame that only moves the clock on changes each row's "lasted" text,
  // and a row is built again only when what it says (kind, reason, acknowledgement) changed.
  Floor.prototype.andon = function (view) {
    var s = this.settings, list = document.getElementById("floor-andon");
    if (!list) { return; }
    var rows = this.alarmRows = this.alarmRows || {};
    var keep = {};
    var nodes = view.alarms.map(function (a) {
      keep[a.id] = true;
      var said = [a.station, a.kind, a.priority || "", a.reason || "", a.ack ? a.ack.by : ""].join("|");
      var row = rows[a.id];
      if (!row || row.said !== said) {
        var name = s.names.stations[a.station] || a.station;
        var what = name + ": " + (s.kinds[a.kind] || a.kind) + (a.reason ? " (" + a.reason + ")" : "");
        var tail;
        if (a.ack) { tail = tf.el("span", { className: "andon-acked", text: "✓ " + a.ack.by }); }
        else if (s.can_ack) {
          tail = tf.el("button", { className: "andon-ack", type: "button", "data-alarm": a.id, text: s.texts.acknowledge,
                                   onclick: function () { tf.acknowledge(a.id); } });
        } else { tail = tf.el("span", { className: "andon-unacked", text: s.texts.unacknowledged }); }
        var lasted = tf.el("span", { className: "andon-lasted" });
        // ISA-101: the priority is said in words as well as by colour, so it reads on any screen.
        var priority = tf.el("span", { className: "andon-priority", text: s.priorities[a.priority] || a.priority || "" });
        row = rows[a.id] = { said: said, lasted: lasted, node: tf.el("li", {
          className: "andon-alarm kind-" + a.kind + " priority-" + a.priority + (a.ack ? " acked" : ""), "data-alarm": a.id }, [
          // An SPC alarm links to its control chart (factory/spc_alarms.py gives the link).
          priority, a.link ? tf.el("a", { className: "andon-what", href: a.link, text: what })
                           : tf.el("span", { className: "andon-what", text: what }), lasted, tail]) };
      }
      tf.setText(row.lasted, tf.lastedText((new Date(view.as_of) - new Date(a.since)) / 1000));
      return row.node;
    });
    Object.keys(rows).forEach(function (id) { if (!keep[id]) { delete rows[id]; } });
    if (!nodes.length) {
      this.noAlarms = this.noAlarms || tf.el("li", { className: "andon-none", text: s.texts.no_alarms });
      nodes = [this.noAlarms];
    }
    tf.order(list, nodes);
    tf.setText(document.getElementById("floor-shelved"), view.shelved ? tf.fill(s.texts.shelved, { n: view.shelved }) : "");
  };

  // Customers' orders as they arrive, newest first, keyed by unit code: a new order is one node
  // added, one released to the line only changes its class.
  Floor.prototype.orders = function (orders) {
    var s = this.settings, list = document.getElementById("floor-orders");
    if (!list) { return; }
    var rows = this.orderRows = this.orderRows || {};
    var keep = {};
    var nodes = orders.map(function (o) {
      keep[o.unit] = true;
      var row = rows[o.unit];
      if (!row) {
        var picks = Object.keys(o.options).map(function (k) {
          return (s.names.choices[k] || {})[o.options[k]] || o.options[k];
        }).join(" · ");
        row = rows[o.unit] = tf.el("li", { className: "order-row", "data-unit": o.unit }, [
          tf.el("span", { className: "order-time", text: tf.clock(o.placed_at, s.locale, s.tz) }),
          tf.el("span", { className: "order-unit", text: o.unit }),
          tf.el("span", { className: "order-options", text: picks }),
          tf.el("span", { className: "order-state" })]);
      }
      tf.setClass(row, "order-row" + (o.released ? " released" : ""));
      tf.setText(row.lastChild, o.released ? s.texts.released : s.texts.waiting_release);
      return row;
    });
    Object.keys(rows).forEach(function (code) { if (!keep[code]) { delete rows[code]; } });
    if (!nodes.length) {
      this.noOrders = this.noOrders || tf.el("li", { className: "orders-none", text: s.texts.no_orders });
      nodes = [this.noOrders];
    }
    tf.order(list, nodes);
  };

  Floor.prototype.kpis = function (kpis) {
    var s = this.settings;
    kpis = kpis || {};
    document.querySelectorAll("[data-kpi]").forEach(function (node) { tf.setText(node, kpiText(node.dataset.kpi, kpis[node.dataset.kpi])); });
    var hourly = kpis.hourly || [];
    var now = hourly.length ? hourly[hourly.length - 1] : null;
    tf.setText(document.getElementById("floor-this-hour"), now ? now.actual + " / " + Math.round(now.plan) : "—");
    tf.setText(document.getElementById("floor-kpi-period"), kpis.from ? tf.fill(s.texts.since, { time: tf.clock(kpis.from, s.locale, s.tz) }) : "");
    this.kpisAt = kpis.computed_at || null;
    if (kpis.hourly) { this.chart = this.traces(kpis.hourly); this.drawChart(); }
  };

  // The chart is drawn here too, with Plotly directly; a chart not drawn yet (Plotly still
  // loading) is drawn by the next tick.
  Floor.prototype.drawChart = function () {
    var graph = document.querySelector("#floor-hourly .js-plotly-plot");
    if (!this.chart || !graph || !window.Plotly || !graph.layout) { this.chartPending = !!this.chart; return; }
    this.chartPending = false;
    var size = parseFloat(window.getComputedStyle(graph).fontSize) || 16;
    var layout = Object.assign({}, graph.layout, { font: Object.assign({}, graph.layout.font, { size: size }),
      legend: Object.assign({}, graph.layout.legend, { font: { size: size } }),
      margin: { l: 3 * size, r: size, t: 0.5 * size, b: 2.2 * size } });
    window.Plotly.react(graph, this.chart, layout, { staticPlot: true, responsive: true });
  };

  // The hour-by-hour chart: the plan as an outlined bar behind a narrower filled one ("how full is the hour").
  Floor.prototype.traces = function (hourly) {
    var s = this.settings;
    var labels = hourly.map(function (h) { return tf.clock(h.hour, s.locale, s.tz); });
    return [
      { type: "bar", name: s.texts.plan, x: labels, y: hourly.map(function (h) { return Math.round(h.plan * 10) / 10; }),
        marker: { color: "rgba(26,95,180,0.08)", line: { color: "#1a5fb4", width: 2 } } },
      { type: "bar", name: s.texts.actual, x: labels, y: hourly.map(function (h) { return h.actual; }), width: 0.5,
        marker: { color: "#5f6368" }, text: hourly.map(function (h) { return h.actual; }), textposition: "outside" }];
  };

  Floor.prototype.health = function () {
    var node = document.getElementById("floor-health");
    var stamp = this.room.stamp;
    if (!node || !stamp || !stamp.health) { return; }
    var problems = stamp.health.problems || [];
    tf.setText(node, problems.length ? this.settings.texts.health + " " + problems.join(" · ") : "");
    tf.setClass(node, problems.length ? "health-banner" : "health-banner hidden");
  };

  Floor.prototype.tick = function () {
    if (this.page && !document.body.contains(this.page)) { this.stop(); return; }  // the page was left
    if (this.replay) {  // no stream to age: the replay keeps its badge, the panels stay as drawn
      if (this.chartPending) { this.drawChart(); }
      return;
    }
    if (this.chartPending) { this.drawChart(); }
    var s = this.settings, r = this.room, now = Date.now(), stamp = r.stamp;
    // A chip that just arrived is highlighted for a second or two, without an animation: an
    // animated background repainted every chip in flight 60 times a second, which at 2,000
    // events/s was most of a 4K screen's paint between frames (bench/wall_latency.py).
    while (this.arrivals.length && now - this.arrivals[0][0] >= 1000) {
      this.arrivals.shift()[1].classList.remove("arrived");
    }
    var ages = {}, stale = {}, banner = "", status = [s.texts.live, "freshness live"];
    if (r.receivedAt && stamp) {
      var sinceFrame = (now - r.receivedAt) / 1000;
      var streamAge = stamp.fed ? (stamp.sent - stamp.fed) / 1000 + sinceFrame : null;
      var kpiAge = this.kpisAt ? (stamp.sent - this.kpisAt) / 1000 + sinceFrame : null;
      var streamStale = sinceFrame > s.stale_after_s || (!stamp.quiet && (streamAge === null || streamAge > s.stale_after_s));
      var live = stamp.quiet && streamAge > s.stale_after_s ? tf.fill(s.texts.quiet, { age: tf.ageText(streamAge) })
        : tf.fill(s.texts.updated, { age: tf.ageText(streamAge === null ? sinceFrame : streamAge) });
      ages = { andon: live, map: live, kpis: kpiAge === null ? "" : tf.fill(s.texts.computed, { age: tf.ageText(kpiAge) }) };
      ages.hourly = ages.kpis; ages.orders = ages.map;
      stale = { andon: streamStale, map: streamStale, kpis: kpiAge === null || kpiAge > s.kpi_interval_s + s.stale_after_s };
      stale.hourly = stale.kpis; stale.orders = stale.map;
      if (streamStale && this.connected) {
        banner = tf.fill(s.texts.no_data, { age: tf.ageText(Math.max(sinceFrame, streamAge || 0)) });
        status = [s.texts.stopped, "freshness offline"];
      }
    }
    if (!this.connected) {  // before the first connection there is nothing lost yet
      banner = !this.everConnected ? s.texts.connecting_long
        : tf.fill(s.texts.lost, { age: tf.ageText(r.receivedAt ? (now - r.receivedAt) / 1000 : null) });
      status = [this.everConnected ? s.texts.reconnecting : s.texts.connecting, "freshness offline"];
      ["andon", "kpis", "map", "hourly", "orders"].forEach(function (p) { stale[p] = true; });
      if (this.disconnectedAt && now - this.disconnectedAt > 5000 && (now / 1000 | 0) % 5 === 0) { tf.checkSession(); }
    }
    document.querySelectorAll("[data-age]").forEach(function (node) { tf.setText(node, ages[node.dataset.age] || ""); });
    document.querySelectorAll(".panel[data-panel]").forEach(function (node) {
      tf.setClass(node, "panel " + node.dataset.panel + (stale[node.dataset.panel] ? " stale" : ""));
    });
    var bannerNode = document.getElementById("floor-banner");
    tf.setText(bannerNode, banner);
    tf.setClass(bannerNode, banner ? "connection-banner" : "connection-banner hidden");
    var statusNode = document.getElementById("floor-status");
    tf.setText(statusNode, status[0]);
    tf.setClass(statusNode, status[1]);
    if (this.connected && s.rotate_s > 0 && now - this.startedAt >= s.rotate_s * 1000 && !this.rotating) { this.rotate(); }
  };

  // Kiosk rotation: the next line, in the page's own navigation (like dcc.Link), so a failed
  // request leaves the screen as it was instead of a browser error page.
  Floor.prototype.rotate = function () {
    var s = this.settings;
    this.rotating = true;
    var next = s.lines[(s.lines.indexOf(s.line) + 1) % s.lines.length];
    window.history.pushState({}, "", "/floor?line=" + encodeURIComponent(next) + "&kiosk=1&rotate=" + s.rotate_s);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  };

  Floor.prototype.stop = function () {
    clearInterval(this.timer);
    if (this.replay) { this.replay.stop(); } else { this.socket.close(); }
  };

  tf.acknowledge = function (alarm) {
    var result = document.getElementById("andon-ack-result");
    fetch("/api/alarms/ack", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
                               body: JSON.stringify({ alarm: alarm }) })
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (answer) { tf.setText(result, answer[0] === 200 ? "" : (answer[1].detail || "")); })
      .catch(function () { tf.setText(result, "—"); });
  };

  var current = null;
  function floorFor(settings) {  // one renderer per drawn page (kiosk rotation draws a new one)
    if (!current || current.settings !== settings) {
      if (current) { current.stop(); }
      current = new Floor(settings);
    }
    return current;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    tf_floor: {
      start: function (settings) {  // once per drawn page: the renderer connects its own socket
        if (settings) { floorFor(settings); }
        return NO_UPDATE();
      }
    }
  });
})();
