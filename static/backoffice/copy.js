// Copy buttons for the program page's tracking links and snippets ([data-copyable]; copyable.js
// selects them on focus). A static file (no inline script or handler), so it runs under the
// Content-Security-Policy, which forbids inline scripts.
"use strict";
(function () {
  function copy(field, button) {
    field.select();
    var done = function () {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        document.execCommand("copy");
        done();
      });
    } else {
      document.execCommand("copy");
      done();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copyable]").forEach(function (field) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy " + (field.getAttribute("aria-label") || ""));
      button.addEventListener("click", function () { copy(field, button); });
      field.insertAdjacentElement("afterend", button);
    });
  });
})();
