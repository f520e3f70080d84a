// Brigade tablet behaviour: PIN pad keys, idle lock, flash dismissal.
(function () {
  "use strict";

  function pinPad() {
    var form = document.getElementById("pin-form");
    if (!form) return;
    var input = form.querySelector("input[name=pin]");
    form.addEventListener("click", function (event) {
      var key = event.target.closest("[data-key]");
      if (!key || key.disabled) return;
      var value = key.getAttribute("data-key");
      if (value === "clear") input.value = "";
      else if (input.value.length < 8) input.value += value;
      input.focus();
    });
  }

  function idleLock() {
    var seconds = parseInt(document.body.getAttribute("data-idle-lock") || "0", 10);
    if (!seconds || document.body.classList.contains("login") || document.body.classList.contains("kds")) return;
    var timer;
    function arm() {
      clearTimeout(timer);
      timer = setTimeout(function () { window.location.href = "/login?next=" + encodeURIComponent(location.pathname); }, seconds * 1000);
    }
    ["pointerdown", "keydown", "touchstart"].forEach(function (name) {
      document.addEventListener(name, arm, { passive: true });
    });
    arm();
  }

  function flashTimeout() {
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var flash = document.getElementById("flash");
      if (event.detail.target === flash) {
        flash.querySelectorAll(".flash-info").forEach(function (el) {
          setTimeout(function () { el.remove(); }, 4000);
        });
      }
    });
    document.addEventListener("click", function (event) {
      var close = event.target.closest ? event.target.closest("[data-dismiss-flash]") : null;
      if (close && close.parentElement) close.parentElement.remove();
    });
    document.body.addEventListener("htmx:sendError", function () {
      var flash = document.getElementById("flash");
      if (flash) flash.innerHTML = '<div class="flash flash-error" role="alert">No connection to the server. Nothing was changed; try again.</div>';
    });
  }

  // Behaviours that would otherwise be inline handlers, which the Content-Security-Policy refuses.
  function declarativeBehaviour() {
    document.addEventListener("submit", function (event) {
      if (event.target.matches && event.target.matches("form[data-no-submit]")) event.preventDefault();
    });
    document.addEventListener("click", function (event) {
      var toggle = event.target.closest ? event.target.closest("[data-toggle-hidden]") : null;
      if (!toggle) return;
      var target = document.getElementById(toggle.getAttribute("data-toggle-hidden"));
      if (target) toggle.setAttribute("aria-expanded", String(!target.toggleAttribute("hidden")));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    declarativeBehaviour();
    pinPad();
    idleLock();
    flashTimeout();
  });
})();
