/* Applies pushed frames in the browser (Dash clientside callbacks, namespace "tf").
 *
 * Every frame is {epoch, seq, view}. A frame older than the last one applied in the same server
 * epoch is dropped; a new epoch (server restart) is always taken, since its snapshot is whole.
 */
(function () {
  "use strict";
  var lastSeen = {};
  var NO_UPDATE = function () { return window.dash_clientside.no_update; };

  function isStale(key, frame) {
    var last = lastSeen[key];
    if (last && last.epoch === frame.epoch && frame.seq < last.seq) { return true; }
    lastSeen[key] = { epoch: frame.epoch, seq: frame.seq, at: Date.now(), asOf: frame.view.as_of };
    return false;
  }

  // Where each unit was in the previous floor frame: a chip animates only in the frame in
  // which its unit arrived, not every time the tile is redrawn.
  var lastStationOf = {};

  function span(children, className) {
    return { type: "Span", namespace: "dash_html_components", props: { children: children, className: className } };
  }

  // Same shape as dashboard/components/station_tile.py:unit_chip.
  function chip(code, arrived) {
    var cut = code.lastIndexOf("-");
    var c = span([span(cut >= 0 ? code.slice(0, cut + 1) : "", "chip-prefix"), span(code.slice(cut + 1), "chip-serial")],
                 arrived ? "unit-chip arrived" : "unit-chip");
    c.props.title = code;
    c.props.key = code;
    return c;
  }

  var locale = [];  // the viewer's own; a page in another language sets it from its texts

  function localTime(iso) {
    return iso ? new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" }) : "";
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }

  function when(iso) {  // in the viewer's timezone; the day only when it is not today
    var t = new Date(iso), now = new Date();
    var time = t.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
    return t.toDateString() === now.toDateString() ? time
      : t.toLocaleDateString(locale, { weekday: "short", day: "numeric", month: "short" }) + " " + time;
  }

  function etaLines(v, texts) {
    var lines = [];
    if (v.units_ahead > 0) {
      lines.push(v.units_ahead === 1 ? texts.ahead_one : fill(texts.ahead, { n: v.units_ahead }));
    }
    if (v.eta) {
      var f = v.eta.finish;
      var finish = v.status === "completed" ? texts.finished
        : when(f.expected) === when(f.latest) ? texts.finish_one : texts.finish;
      lines.push(fill(finish, { expected: when(f.expected), earliest: when(f.earliest), latest: when(f.latest) }));
      if (v.eta.ship) { lines.push(fill(texts.ship, { expected: when(v.eta.ship.expected) })); }
      if (v.eta.reason) { lines.push("⚠ " + v.eta.reason); }
    }
    if (v.shipping) {
      var delivery = new Date(v.shipping.estimated_delivery + "T12:00:00")
        .toLocaleDateString(locale, { weekday: "short", day: "numeric", month: "short" });
      lines.push(fill(texts.shipped_with, { carrier: v.shipping.carrier, date: delivery }));
    }
    return lines.map(function (text) { return { type: "Div", namespace: "dash_html_components", props: { children: text } }; });
  }

  // KPI values as the floor shows them; null (nothing to divide by yet) shows a dash.
  var RATIOS = { oee: 1, availability: 1, performance: 1, quality: 1, first_pass_yield: 1 };
  function kpiText(name, value) {
    if (value === null || value === undefined) { return "—"; }
    if (RATIOS[name]) { return (value * 100).toFixed(1) + " %"; }
    if (name === "throughput_per_hour") { return value.toFixed(1); }
    if (name.slice(-2) === "_s") { return Math.round(value) + " s"; }
    return String(value);
  }

  function byStation(outputs, values) {
    return outputs.map(function (o) { return values[o.id.station]; });
  }

  // --- floor screen -----------------------------------------------------------------------
  var floorClock = null;  // receipt time and server clocks of the last floor frame, for the ages
  var rotating = false;
  var PANEL_NAMES = ["andon", "kpis", "map", "hourly"];
  // What each output of the floor page shows now: unchanged outputs are not sent to React at
  // all (most tiles do not change from one frame to the next).
  var shown = {}, shownFor = null;

  function unlessShown(key, value) {
    var text = JSON.stringify(value);
    if (shown[key] === text) { return window.dash_clientside.no_update; }
    shown[key] = text;
    return value;
  }

  function plantTime(iso, settings) {  // wall screens show the plant's clock, wherever the browser is
    var shifted = new Date(new Date(iso).getTime() + settings.utc_offset_h * 3600e3);
    return shifted.toISOString().slice(11, 16);
  }

  function ageText(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) { return "—"; }
    seconds = Math.max(0, Math.round(seconds));
    return seconds < 90 ? seconds + " s" : Math.round(seconds / 60) + " min";
  }

  function lastedText(seconds) {  // same as dashboard/components/andon.py:lasted_text
    var minutes = Math.max(0, Math.floor(seconds / 60));
    return minutes < 60 ? minutes + " min" : Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0");
  }

  function el(type, props) {
    return { type: type, namespace: "dash_html_components", props: props };
  }

  // Same rows as dashboard/components/andon.py:andon_rows.
  function andonRows(view, settings) {
    if (!view.alarms.length) { return [el("Li", { children: settings.no_alarms, className: "andon-none" })]; }
    var asOf = new Date(view.as_of);
    return view.alarms.map(function (a) {
      var what = a.station_name + ": " + settings.kinds[a.kind] + (a.reason ? " (" + a.reason + ")" : "");
      var tail = a.ack ? el("Span", { children: "✓ " + a.ack.by, className: "andon-acked" })
        : settings.can_ack ? el("Button", { children: "Acknowledge", className: "andon-ack", n_clicks: 0,
                                            id: { type: "andon-ack", alarm: a.id } })
        : el("Span", { children: "unacknowledged", className: "andon-unacked" });
      return el("Li", { className: "andon-alarm kind-" + a.kind + (a.ack ? " acked" : ""), key: a.id, children: [
        el("Span", { children: what, className: "andon-what" }),
        el("Span", { children: lastedText((asOf - new Date(a.since)) / 1000), className: "andon-lasted" }), tail] });
    });
  }

  // The server's traces (dashboard/components/hourly_chart.py) in its layout, with the type
  // as large as the page's own, which kiosk mode scales with the screen.
  function hourlyFigure(traces, layout) {
    var graph = document.getElementById("floor-hourly");
    var size = graph ? parseFloat(window.getComputedStyle(graph).fontSize) : 16;
    var legend = Object.assign({}, layout.legend, { font: { size: size } });
    var margin = { l: 3 * size, r: size, t: 0.5 * size, b: 2.2 * size };
    return { data: traces, layout: Object.assign({}, layout, {
      font: Object.assign({}, layout.font, { size: size }), legend: legend, margin: margin }) };
  }

  // Kiosk rotation: the next line, in the page's own navigation (like dcc.Link), so a failed
  // request leaves the screen as it was instead of a browser error page.
  function rotate(settings) {
    rotating = true;
    var next = settings.lines[(settings.lines.indexOf(settings.line) + 1) % settings.lines.length];
    window.history.pushState({}, "", "/floor?line=" + encodeURIComponent(next) + "&kiosk=1&rotate=" + settings.rotate_s);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
    setTimeout(function () { rotating = false; }, 2000);
  }


  // Dash keeps an undo history of every input prop a component changes by itself: each pushed
  // frame and each timer tick is appended (and the array copied) for as long as the page is
  // open, which on a wall screen is ~0.7 MB more heap a minute and ever slower updates. This app
  // shows no undo/redo buttons, so only the last few entries are kept.
  var UNDO_KEPT = 5;
  setInterval(function () {
    (window.dash_stores || []).forEach(function (store) {
      var history = store.getState().history;
      if (history && history.past && history.past.length > UNDO_KEPT) {
        history.past.splice(0, history.past.length - UNDO_KEPT);
      }
    });
  }, 5000);

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    tf: {
      applyFloorFrame: function (frame, settings, figure) {
        if (!frame || isStale("floor:" + frame.view.line.id, frame)) { return NO_UPDATE(); }
        var labels = settings.labels;
        var outs = window.dash_clientside.callback_context.outputs_list;
        var units = {}, queues = {}, classes = {}, statuses = {}, stationOf = {};
        frame.view.stations.forEach(function (s) {
          units[s.id] = s.units.map(function (code) {
            stationOf[code] = s.id;
            return chip(code, lastStationOf[code] !== undefined && lastStationOf[code] !== s.id);
          });
          queues[s.id] = String(s.queue);
          // Same as dashboard/components/station_tile.py: tile_class and status_text.
          classes[s.id] = "station-tile state-" + s.status + (s.alert ? " alert" : "");
          statuses[s.id] = labels[s.status] + (s.status === "down" && s.down_reason ? ": " + s.down_reason : "");
        });
        lastStationOf = stationOf;
        if (settings !== shownFor) { shown = {}; shownFor = settings; }  // a freshly drawn page
        ["units", "queues", "classes", "statuses"].forEach(function (kind, i) {
          var values = [units, queues, classes, statuses][i];
          Object.keys(values).forEach(function (id) { values[id] = unlessShown(kind + id, values[id]); });
        });
        floorClock = { receivedAt: Date.now(), sentAt: frame.sent_at, fedAt: frame.fed_at, quiet: frame.quiet,
                       kpiAt: frame.kpis ? frame.kpis.computed_at : null };
        var kpis = frame.kpis || {};
        var kpiValues = outs[5].map(function (o) { return kpiText(o.id.kpi, kpis[o.id.kpi]); });
        var period = frame.kpis ? "Since " + plantTime(frame.kpis.from, settings) : "";
        var hourly = kpis.hourly || [];
        var now = hourly.length ? hourly[hourly.length - 1] : null;
        var thisHour = now ? now.actual + " / " + Math.round(now.plan) : "—";
        var newKpis = frame.kpis && unlessShown("kpisAt", frame.kpis.computed_at) !== NO_UPDATE();
        var chart = newKpis ? hourlyFigure(frame.kpis.chart, figure.layout) : NO_UPDATE();
        return [byStation(outs[0], units), byStation(outs[1], queues), byStation(outs[2], classes),
                byStation(outs[3], statuses), unlessShown("wip", String(frame.view.wip)),
                kpiValues.map(function (v, i) { return unlessShown("kpi" + i, v); }), unlessShown("period", period),
                unlessShown("hour", thisHour), unlessShown("andon", andonRows(frame.view, settings)), chart];
      },

      tickFloor: function (n, connected, settings) {
        var outs = window.dash_clientside.callback_context.outputs_list;
        var now = Date.now(), c = floorClock, stale = settings.stale_after_s;
        var ages = {}, staleness = {}, banner = "", status = [settings.live, "freshness live"];
        if (c) {
          var sinceFrame = (now - c.receivedAt) / 1000;
          var streamAge = c.fedAt ? (c.sentAt - c.fedAt) / 1000 + sinceFrame : null;
          var kpiAge = c.kpiAt ? (c.sentAt - c.kpiAt) / 1000 + sinceFrame : null;
          var streamStale = sinceFrame > stale || (!c.quiet && (streamAge === null || streamAge > stale));
          var liveText = c.quiet && streamAge > stale ? "planned stop · last event " + ageText(streamAge) + " ago"
                                                      : "updated " + ageText(streamAge === null ? sinceFrame : streamAge) + " ago";
          ages = { andon: liveText, map: liveText, kpis: kpiAge === null ? "" : "computed " + ageText(kpiAge) + " ago" };
          ages.hourly = ages.kpis;
          staleness = { andon: streamStale, map: streamStale, kpis: kpiAge === null || kpiAge > settings.kpi_interval_s + stale };
          staleness.hourly = staleness.kpis;
          if (streamStale && connected) {
            banner = "No data from the line for " + ageText(Math.max(sinceFrame, streamAge || 0)) +
                     " — greyed-out panels are not live.";
            status = ["Stream stopped", "freshness offline"];
          }
        }
        if (!connected) {  // before the first connection there is nothing lost yet
          banner = !c ? "Connecting to the server…"
            : "Connection lost — reconnecting… Showing data from " + ageText((now - c.receivedAt) / 1000) + " ago.";
          status = [c ? settings.reconnecting : "Connecting…", "freshness offline"];
          PANEL_NAMES.forEach(function (p) { staleness[p] = true; });
        }
        if (connected && settings.rotate_s > 0 && n * 1 >= settings.rotate_s && !rotating) { rotate(settings); }
        if (settings !== shownFor) { shown = {}; shownFor = settings; }  // a freshly drawn page
        return [outs[0].map(function (o) { return ages[o.id.panel] || ""; }),
                outs[1].map(function (o) {
                  return unlessShown("panel" + o.id.panel, "panel " + o.id.panel + (staleness[o.id.panel] ? " stale" : ""));
                }),
                unlessShown("banner", banner), unlessShown("bannerClass", banner ? "connection-banner" : "connection-banner hidden"),
                unlessShown("status", status[0]), unlessShown("statusClass", status[1])];
      },

      applyOrderFrame: function (frame, texts) {
        locale = texts.locale ? [texts.locale] : [];
        if (!frame || isStale("order", frame)) { return NO_UPDATE(); }
        var outs = window.dash_clientside.callback_context.outputs_list;
        var classes = {}, times = {};
        frame.view.steps.forEach(function (s) {
          classes[s.id] = "step step-" + s.state;
          times[s.id] = s.entered ? localTime(s.entered) + (s.exited ? " – " + localTime(s.exited) : "") : "";
        });
        var v = frame.view;
        // Same choice as dashboard/components/order_timeline.py:headline, with its texts.
        var head = v.current_station ? texts.at.replace("{}", v.current_station)
                 : v.waiting_for ? texts.next.replace("{}", v.waiting_for) : texts[v.status];
        return [byStation(outs[0], classes), byStation(outs[1], times), head, etaLines(v, texts)];
      },

      quickFilter: function (text, options) {  // the orders grid's search box
        return Object.assign({}, options, { quickFilterText: text || "" });
      },

      showConnection: function (connected, _frame, texts) {
        if (!connected) { return [texts.reconnecting, "freshness offline"]; }
        return [texts.live, "freshness live"];
      }
    }
  });
})();
