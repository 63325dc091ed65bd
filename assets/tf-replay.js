/* The floor at a past moment (/floor?line=…&at=…): the same page and renderer, fed from history.
 *
 * Instead of the live socket, views come from GET /api/floor/<line>?at=… (rebuilt on the server
 * from a checkpoint and the events after it). Play moves the moment on by the chosen speed every
 * second; the step buttons go to the line's previous or next event; the slider seeks anywhere in
 * the recorded history. The address bar always holds the moment shown, so it can be shared.
 */
(function () {
  "use strict";
  var tf = window.tf = window.tf || {};
  var TICK_MS = 1000;

  function FloorReplay(floor, settings) {
    this.floor = floor;
    this.settings = settings;
    this.at = Date.parse(settings.at);
    this.view = null;
    this.playing = false;
    this.busy = false;
    this.speed = Number(settings.speed) || 60;
    this.error = "";
    var self = this;
    this.node = function (id) { return document.getElementById(id); };
    this.on("replay-play", "click", function () { self.toggle(); });
    this.on("replay-previous", "click", function () { self.step("previous"); });
    this.on("replay-next", "click", function () { self.step("next"); });
    this.on("replay-speed", "change", function (e) { self.speed = Number(e.target.value) || 1; });
    this.on("replay-seek", "change", function (e) { self.pause(); self.load(Number(e.target.value)); });
    this.timer = setInterval(this.advance.bind(this), TICK_MS);
    this.load(this.at);
  }

  FloorReplay.prototype.on = function (id, kind, handler) {
    var node = document.getElementById(id);
    if (node) { node.addEventListener(kind, handler); }
  };

  FloorReplay.prototype.load = function (at) {
    var self = this, line = this.floor.settings.line;
    if (this.busy || isNaN(at)) { return; }
    this.busy = true;
    var iso = new Date(at).toISOString();
    fetch("/api/floor/" + encodeURIComponent(line) + "?at=" + encodeURIComponent(iso), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (answer) {
        self.busy = false;
        if (answer[0] !== 200) {  // the end of the history while playing, or a moment outside it
          self.pause();
          self.error = answer[1].detail || answer[1].error || String(answer[0]);
          self.show();
          return;
        }
        var previous = self.view;
        self.view = answer[1];
        self.at = Date.parse(self.view.replay.at);
        self.error = "";
        self.floor.draw(self.view, previous);
        self.remember();
        self.show();
      })
      .catch(function () { self.busy = false; self.pause(); self.error = "—"; self.show(); });
  };

  // The address bar holds the moment shown (and the speed), so the link shows the same floor.
  FloorReplay.prototype.remember = function () {
    var url = new URL(window.location.href);
    url.searchParams.set("at", new Date(this.at).toISOString());
    window.history.replaceState(window.history.state, "", url.pathname + url.search);
  };

  FloorReplay.prototype.advance = function () {
    if (!this.floor.page || !document.body.contains(this.floor.page)) { this.stop(); return; }
    if (this.playing) { this.load(this.at + this.speed * TICK_MS); }
  };

  FloorReplay.prototype.step = function (where) {
    this.pause();
    var to = this.view && this.view.replay[where];
    if (to) { this.load(Date.parse(to)); }
  };

  FloorReplay.prototype.toggle = function () { this.playing = !this.playing; this.show(); };
  FloorReplay.prototype.pause = function () { this.playing = false; this.show(); };

  FloorReplay.prototype.show = function () {
    var s = this.floor.settings, t = s.texts;
    var badge = this.status(), statusNode = this.node("floor-status");  // at once, not at the next tick
    tf.setText(statusNode, badge[0]);
    tf.setClass(statusNode, badge[1]);
    tf.setText(this.node("replay-at"), tf.moment(new Date(this.at).toISOString(), s.locale, s.tz));
    tf.setText(this.node("replay-play"), this.playing ? t.pause : t.play);
    tf.setText(this.node("replay-error"), this.error);
    var seek = this.node("replay-seek"), bounds = this.view && this.view.replay;
    if (seek && bounds) {
      seek.min = String(Date.parse(bounds.first));
      seek.max = String(Date.parse(bounds.last));
      if (document.activeElement !== seek) { seek.value = String(this.at); }
    }
    var previous = this.node("replay-previous"), next = this.node("replay-next");
    if (previous) { previous.disabled = !(bounds && bounds.previous); }
    if (next) { next.disabled = !(bounds && bounds.next); }
  };

  // What the freshness badge says in a replay: the moment, not the age of a stream.
  FloorReplay.prototype.status = function () {
    return [this.floor.settings.texts.replay, "freshness replay"];
  };

  FloorReplay.prototype.stop = function () { clearInterval(this.timer); this.playing = false; };

  tf.FloorReplay = FloorReplay;
})();
