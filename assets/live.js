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


  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    tf: {
      applyFloorFrame: function (frame, settings) {
        var labels = settings.labels;
        if (!frame || isStale("floor", frame)) { return NO_UPDATE(); }
        var outs = window.dash_clientside.callback_context.outputs_list;
        var units = {}, queues = {}, classes = {}, statuses = {}, stationOf = {};
        frame.view.stations.forEach(function (s) {
          units[s.id] = s.units.map(function (code) {
            stationOf[code] = s.id;
            return chip(code, lastStationOf[code] !== undefined && lastStationOf[code] !== s.id);
          });
          queues[s.id] = String(s.queue);
          // Same as dashboard/components/station_tile.py: tile_class and status_text.
          var lasted = s.since ? (new Date(frame.view.as_of) - new Date(s.since)) / 1000 : 0;
          var alert = s.status === "down" || ((s.status === "starved" || s.status === "blocked")
                                              && lasted >= settings.alert_after_s);
          classes[s.id] = "station-tile state-" + s.status + (alert ? " alert" : "");
          statuses[s.id] = labels[s.status] + (s.status === "down" && s.down_reason ? ": " + s.down_reason : "");
        });
        lastStationOf = stationOf;
        var kpis = frame.kpis || {};
        var kpiValues = outs[5].map(function (o) { return kpiText(o.id.kpi, kpis[o.id.kpi]); });
        var period = frame.kpis ? "Since " + localTime(frame.kpis.from) : "";
        return [byStation(outs[0], units), byStation(outs[1], queues), byStation(outs[2], classes),
                byStation(outs[3], statuses), String(frame.view.wip), kpiValues, period];
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

      showConnection: function (connected, _frame, texts) {
        if (!connected) { return [texts.reconnecting, "freshness offline"]; }
        return [texts.live, "freshness live"];
      }
    }
  });
})();
