/* Retrack tag; see the README, "Script tracking" and "Testing your integration". */
(function (w, d) {
  "use strict";
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  var FIELDS = {
    transaction: ["event", "orderNumber", "orderSum", "vatSum", "currency", "products", "voucher", "vouchers"],
    lead: ["event", "reference", "voucher"]
  };
  var KEYS = {transaction: "orderNumber", lead: "reference"};
  var endpoint = null;
  var debug = false;

  function say(level, message) {
    try {
      w.console[level]("retrack: " + message);
    } catch (ignored) {}
  }

  function warn(message) {
    say("warn", message);
  }

  // The endpoint sits beside this script; ?debug=1 on the script turns debug mode on.
  function findEndpoint() {
    var script = d.currentScript || d.querySelector("script[src*='/track/v2/retrack.js']");
    if (script) {
      debug = /[?&]debug=1/.test(script.src);
      return new URL("conversion", script.src).href;
    }
    return null;
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
    d.cookie = "retrack_click=" + click.toLowerCase() + "; max-age=864000; path=/; samesite=lax" +
      (w.location.protocol === "https:" ? "; secure" : "");
  }

  // Debug mode waits for the verdict and prints it; otherwise the report must survive
  // the page being left. Either way a text/plain body needs no CORS preflight.
  function send(body) {
    var options = {method: "POST", body: body, credentials: "omit", headers: {"Content-Type": "text/plain"}};
    if (debug) {
      return w.fetch(endpoint + "?debug=1", options).then(function (response) {
        return response.json();
      }).then(function (answer) {
        var v = answer.data;
        say(v.code ? "warn" : "info", v.outcome + " " + (v.code || v.conversion) + ": " + v.message);
      }, warn);
    }
    if (!(w.navigator.sendBeacon && w.navigator.sendBeacon(endpoint, body))) {
      options.keepalive = true;
      options.mode = "no-cors";
      w.fetch(endpoint, options);
    }
  }

  // The name of the first amount that is not an integer (minor units), if any.
  function notInteger(fields) {
    var found;
    [fields].concat(fields.products || []).forEach(function (item) {
      ["orderSum", "vatSum", "quantity", "price", "vat"].forEach(function (name) {
        if (item[name] !== undefined && !Number.isInteger(item[name])) {
          found = found || name;
        }
      });
    });
    return found;
  }

  function report(kind, fields) {
    var allowed = FIELDS[kind];
    if (kind === "debug") {
      debug = fields !== false;
      return;
    }
    if (!allowed) {
      return warn("unknown command " + JSON.stringify(kind) + "; use \"transaction\" or \"lead\"");
    }
    if (!fields || typeof fields !== "object" || Array.isArray(fields)) {
      return warn(kind + " needs an object of fields");
    }
    if (!fields.event || !fields[KEYS[kind]]) {
      return warn(kind + " needs \"event\" and \"" + KEYS[kind] + "\"");
    }
    var name = notInteger(fields);
    if (name) {
      return warn(kind + " not sent: " + name + " must be an integer (minor units)");
    }
    var click = savedClick();
    if (!click) {
      return debug && warn("no retrack_click cookie: nothing sent");
    }
    if (!endpoint) {
      return warn("cannot find its own URL");
    }
    var body = {kind: kind, click: click};
    for (name in fields) {
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
