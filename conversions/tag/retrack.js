/* Retrack tag: saves ?click= in the retrack_click cookie and reports conversions.
   Loader: window.re = window.re || function () { (re.q = re.q || []).push(arguments); };
   Calls:  re("transaction", {...}), re("lead", {...}). See the README, "Script tracking". */
(function (w, d) {
  "use strict";
  var COOKIE = "retrack_click";
  var TEN_DAYS = 864000;
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  var FIELDS = {
    transaction: ["event", "orderNumber", "orderSum", "vatSum", "currency", "products", "voucher", "vouchers"],
    lead: ["event", "reference", "voucher"]
  };
  var KEYS = {transaction: "orderNumber", lead: "reference"};
  var endpoint = null;

  function warn(message) {
    try {
      w.console.warn("retrack: " + message);
    } catch (ignored) {}
  }

  // The conversion endpoint sits beside this script, so the store never configures it.
  function findEndpoint() {
    var script = d.currentScript;
    if (!script) {
      script = d.querySelector("script[src*='/track/v2/retrack.js']");
    }
    return script ? new URL("conversion", script.src).href : null;
  }

  function savedClick() {
    var match = d.cookie.match(/(?:^|;\s*)retrack_click=([^;]*)/);
    return match && UUID.test(match[1]) ? match[1] : null;
  }

  function saveClick() {
    var click = new URLSearchParams(w.location.search).get("click");
    if (click === null) {
      return;
    }
    if (!UUID.test(click)) {
      return warn("ignored a malformed click parameter");
    }
    d.cookie = COOKIE + "=" + click.toLowerCase() + "; max-age=" + TEN_DAYS + "; path=/; samesite=lax" +
      (w.location.protocol === "https:" ? "; secure" : "");
  }

  function send(body) {
    if (w.navigator.sendBeacon && w.navigator.sendBeacon(endpoint, body)) {
      return;
    }
    // no-cors with a text/plain body: a simple request, so no preflight either way.
    w.fetch(endpoint, {method: "POST", body: body, keepalive: true, mode: "no-cors", credentials: "omit",
      headers: {"Content-Type": "text/plain"}});
  }

  function report(kind, fields) {
    var allowed = FIELDS[kind];
    if (!allowed) {
      return warn("unknown command " + JSON.stringify(kind) + "; use \"transaction\" or \"lead\"");
    }
    if (!fields || typeof fields !== "object" || Array.isArray(fields)) {
      return warn(kind + " needs an object of fields");
    }
    if (!fields.event || !fields[KEYS[kind]]) {
      return warn(kind + " needs \"event\" and \"" + KEYS[kind] + "\"");
    }
    var click = savedClick();
    if (!click) {
      return; // not an affiliated visit
    }
    if (!endpoint) {
      return warn("cannot tell where the tag was loaded from");
    }
    var body = {kind: kind, click: click};
    for (var name in fields) {
      if (allowed.indexOf(name) < 0) {
        warn(kind + ": ignored the unknown field " + JSON.stringify(name));
      } else {
        body[name] = fields[name];
      }
    }
    send(JSON.stringify(body));
  }

  // Nothing may ever throw into the store's page.
  function re(kind, fields) {
    try {
      report(kind, fields);
    } catch (error) {
      warn(kind + " was not sent: " + error);
    }
  }

  try {
    endpoint = findEndpoint();
    saveClick();
  } catch (error) {
    warn("could not start: " + error);
  }
  var queued = (w.re && w.re.q) || [];
  w.re = re;
  for (var i = 0; i < queued.length; i++) {
    re(queued[i][0], queued[i][1]);
  }
})(window, document);
