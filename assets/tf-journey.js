/* The customer's time-lapse (/track/<token>/replay): the unit's stations, one after another.
 *
 * The journey (GET /api/orders/<token>/journey: the unit's own events) is played over the page's
 * stepper: each visit marks its station current for a moment, then done, and adds a line with
 * the time spent there; a rework adds where the test sent the unit back. The stepper's
 * ``data-playing`` holds the station shown, so the order of play can be checked.
 */
(function () {
  "use strict";
  var tf = window.tf = window.tf || {};
  var NO_UPDATE = function () { return window.dash_clientside.no_update; };
  var STEP_MS = 700;

  function spentText(seconds) {  // "45 s", "3 min 12 s", "1 h 05 min"
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) { return seconds + " s"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min " + String(seconds % 60).padStart(2, "0") + " s"; }
    return Math.floor(seconds / 3600) + " h " + String(Math.floor(seconds / 60) % 60).padStart(2, "0") + " min";
  }

  function Journey(settings) {
    this.settings = settings;
    this.frames = [];
    this.timer = null;
    var self = this;
    this.button = document.getElementById("journey-play");
    if (this.button) { this.button.addEventListener("click", function () { self.play(); }); }
    fetch("/api/orders/" + encodeURIComponent(settings.token) + "/journey", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (journey) { if (journey) { self.prepare(journey); } });
  }

  // One frame per visit, and one per rework right after the visit whose test sent it back.
  Journey.prototype.prepare = function (journey) {
    var frames = [];
    var reworks = journey.reworks.slice();
    journey.visits.forEach(function (v) {
      frames.push({ station: v.station, visit: v });
      while (reworks.length && (!v.exited || reworks[0].time <= v.exited)) {
        frames.push({ station: reworks[0].station, rework: reworks.shift() });
      }
    });
    reworks.forEach(function (r) { frames.push({ station: r.station, rework: r }); });
    this.frames = frames;
    var t = this.settings.texts;
    if (!frames.length) { tf.setText(document.getElementById("journey-log"), ""); this.log(t.journey_none); return; }
    if (this.button) { this.button.disabled = false; }
    this.play();
  };

  Journey.prototype.log = function (text, cls) {
    var list = document.getElementById("journey-log");
    if (list) { list.appendChild(tf.el("li", { className: cls || "", text: text })); }
  };

  Journey.prototype.play = function () {
    var self = this, s = this.settings, t = s.texts, names = s.names.stations;
    clearInterval(this.timer);
    var list = document.getElementById("journey-log");
    if (list) { list.replaceChildren(); }
    var steps = document.querySelectorAll(".stepper .step");
    steps.forEach(function (step) { tf.setClass(step, "step step-pending"); });
    var stepper = document.querySelector(".stepper");
    var i = 0;
    if (this.button) { this.button.disabled = true; }
    var next = function () {
      if (!document.body.contains(stepper)) { clearInterval(self.timer); return; }  // the page was left
      document.querySelectorAll(".stepper .step-current").forEach(function (n) { tf.setClass(n, "step step-done"); });
      if (i >= self.frames.length) {
        clearInterval(self.timer);
        var last = self.frames[self.frames.length - 1];
        if (last.visit && last.visit.spent_s === null) {  // it is still there: the journey ends where it is now
          var here = document.querySelector('.stepper .step[data-station="' + last.station + '"]');
          if (here) { tf.setClass(here, "step step-current"); }
        }
        stepper.dataset.playing = "";
        if (self.button) { self.button.disabled = false; tf.setText(self.button, t.journey_again); }
        return;
      }
      var frame = self.frames[i++], name = names[frame.station] || frame.station;
      var step = document.querySelector('.stepper .step[data-station="' + frame.station + '"]');
      if (step) { tf.setClass(step, "step step-current"); }
      stepper.dataset.playing = frame.station;
      stepper.dataset.played = (stepper.dataset.played && i > 1 ? stepper.dataset.played + "," : "") + frame.station;
      if (frame.rework) {
        self.log(tf.fill(t.journey_rework, { station: name, to: names[frame.rework.back_to] || frame.rework.back_to }), "rework");
      } else if (frame.visit.spent_s === null) {
        self.log(tf.fill(t.journey_here, { station: name }));
      } else {
        self.log(tf.fill(t.journey_visit, { station: name, spent: spentText(frame.visit.spent_s) }));
      }
    };
    next();
    this.timer = setInterval(next, STEP_MS);
  };

  var current = null;
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    tf_journey: {
      start: function (settings) {  // once per drawn page
        if (settings && (!current || current.settings !== settings)) {
          if (current) { clearInterval(current.timer); }
          current = new Journey(settings);
        }
        return NO_UPDATE();
      }
    }
  });
})();
