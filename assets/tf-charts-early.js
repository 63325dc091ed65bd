/* Start Plotly on the pages that draw charts as soon as the page's scripts run.
 *
 * Dash fetches and evaluates plotly.min.js (3.5 MB) only once a dcc.Graph renders, which is after
 * the page's layout has come back from the server; evaluating it takes 150-400 ms on a small PC,
 * so the executive page waited for it after its figures had arrived. Injected here, it evaluates
 * while the layout and the figures are on their way, and dcc.Graph finds window.Plotly set (the
 * script is then fetched once: tests/e2e/test_office_pages.py). Phones on the tracker never load it.
 */
(function () {
  "use strict";
  var CHART_PAGES = ["/exec", "/floor"];
  var config = document.getElementById("_dash-config");
  var prefix = (config && JSON.parse(config.textContent).requests_pathname_prefix) || "/";
  var path = location.pathname.slice(prefix.length - 1);
  if (window.Plotly || !CHART_PAGES.some(function (p) { return path === p || path.indexOf(p + "/") === 0; })) { return; }
  var script = document.createElement("script");
  script.src = prefix + "_dash-component-suites/plotly/package_data/plotly.min.js";
  document.head.appendChild(script);
})();
