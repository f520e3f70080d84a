// Table service on a tablet: category tabs, modifier rules, sheets, keypads, and the live floor and check.
(function () {
  "use strict";

  function closest(target, selector) {
    return target && target.closest ? target.closest(selector) : null;
  }

  function closeSheet() {
    var sheet = document.getElementById("sheet");
    if (sheet && !sheet.classList.contains("sheet-page")) sheet.innerHTML = "";
  }

  // ------------------------------------------------------------------ taps
  document.addEventListener("click", function (event) {
    var target = event.target;

    var cat = closest(target, ".cat[data-cat]");
    if (cat) {
      document.querySelectorAll(".cat").forEach(function (el) {
        var on = el === cat;
        el.classList.toggle("active", on);
        el.setAttribute("aria-pressed", on ? "true" : "false");
      });
      document.querySelectorAll(".item-grid").forEach(function (grid) {
        grid.classList.toggle("active", grid.getAttribute("data-cat") === cat.getAttribute("data-cat"));
      });
      return;
    }

    if (closest(target, "[data-close-sheet]")) {
      closeSheet();
      return;
    }
    var host = document.getElementById("sheet");
    if (host && target === host) {
      closeSheet();
      return;
    }

    var step = closest(target, "[data-step]");
    if (step) {
      var input = step.parentElement.querySelector("input");
      var max = parseInt(input.getAttribute("data-max") || "99", 10);
      var value = (parseInt(input.value, 10) || 0) + parseInt(step.getAttribute("data-step"), 10);
      input.value = String(Math.max(1, Math.min(max, value)));
      return;
    }

    var fill = closest(target, "[data-fill]");
    if (fill) {
      var field = document.getElementById(fill.getAttribute("data-fill"));
      if (field) field.value = fill.getAttribute("data-value");
      return;
    }

    var key = closest(target, ".keypad [data-key]");
    if (key) {
      var pad = key.closest(".keypad");
      var pin = document.getElementById(pad.getAttribute("data-for"));
      var k = key.getAttribute("data-key");
      if (k === "clear") pin.value = "";
      else if (k === "back") pin.value = pin.value.slice(0, -1);
      else if (pin.value.length < 8) pin.value += k;
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeSheet();
  });

  // ------------------------------------------------------------------ modifier rules
  function questionState(fieldset) {
    var min = parseInt(fieldset.getAttribute("data-min"), 10);
    var max = parseInt(fieldset.getAttribute("data-max"), 10);
    var picked = fieldset.querySelectorAll("input:checked").length;
    return { min: min, max: max, picked: picked };
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var fieldset = closest(input, "fieldset.question");
    if (!fieldset || input.type !== "checkbox") return;
    var rule = questionState(fieldset);
    if (input.checked && rule.max === 1) {
      // A one-answer question behaves like radio buttons that can also be cleared.
      fieldset.querySelectorAll("input:checked").forEach(function (other) {
        if (other !== input) other.checked = false;
      });
    } else if (input.checked && rule.picked > rule.max) {
      input.checked = false;
      fieldset.classList.add("too-many");
      setTimeout(function () { fieldset.classList.remove("too-many"); }, 1500);
    }
    rule = questionState(fieldset);
    fieldset.classList.toggle("answered", rule.picked >= rule.min);
    var form = fieldset.closest("form");
    if (form && form.hasAttribute("data-auto-add")) {
      var complete = Array.prototype.every.call(form.querySelectorAll("fieldset.question"), function (fs) {
        var r = questionState(fs);
        return r.picked >= r.min && r.picked <= r.max;
      });
      if (complete) {
        form.removeAttribute("data-auto-add");
        if (form.requestSubmit) form.requestSubmit();
        else htmx.trigger(form, "submit");
      }
    }
  });

  // ------------------------------------------------------------------ live floor
  function setLive(el, state, text) {
    el.classList.toggle("is-live", state === "live");
    el.classList.toggle("is-offline", state === "offline");
    var label = el.querySelector(".live-text");
    if (label) label.textContent = text;
  }

  document.body.addEventListener("htmx:wsOpen", function (event) {
    var el = event.detail.elt;
    if (el.id === "plan-live") {
      el.classList.remove("is-synced");
      setLive(el, "live", "Syncing…");
      // Anything committed before this socket opened is fetched now; everything after arrives on it.
      htmx.ajax("GET", el.getAttribute("data-reload"), { target: "#plan-tables", swap: "innerHTML" }).then(function () {
        el.classList.add("is-synced");
        setLive(el, "live", "Live");
      });
    } else if (el.id === "entry") {
      refreshPanel(true);
      refreshMenu();
    }
  });

  document.body.addEventListener("htmx:wsClose", function (event) {
    var el = event.detail.elt;
    if (el.id === "plan-live") {
      el.classList.remove("is-synced");
      setLive(el, "offline", "Reconnecting…");
    }
  });

  function tickMinutes() {
    var now = Date.now();
    document.querySelectorAll(".since[data-since]").forEach(function (el) {
      var minutes = Math.max(0, Math.floor((now - parseInt(el.getAttribute("data-since"), 10)) / 60000));
      el.textContent = minutes + "′";
    });
  }
  setInterval(tickMinutes, 30000);

  // ------------------------------------------------------------------ live check
  function refreshPanel(always) {
    var entry = document.getElementById("entry");
    var panel = document.getElementById("check-panel");
    var sync = document.getElementById("check-sync");
    if (!entry || !panel || !entry.getAttribute("data-panel")) return;
    var fresh = sync && sync.getAttribute("data-version");
    if (!always && (!fresh || fresh === panel.getAttribute("data-version"))) return;
    htmx.ajax("GET", entry.getAttribute("data-panel"), { target: "#check-panel", swap: "outerHTML" });
  }

  // Items 86'd or back on sale while the live link was down: every button is redrawn in place.
  function refreshMenu() {
    var entry = document.getElementById("entry");
    if (!entry || !entry.getAttribute("data-menu")) return;
    htmx.ajax("GET", entry.getAttribute("data-menu"), { swap: "none" });
  }

  document.body.addEventListener("htmx:wsAfterMessage", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "entry") return;
    // A message may only redraw item buttons (they replace themselves); the check is looked at when it names it.
    var message = String(event.detail.message || "");
    if (message.indexOf('id="check-sync"') < 0) return;
    var sync = document.getElementById("check-sync");
    // The kitchen made food ready: the check's version is the same, but the panel must be redrawn.
    refreshPanel(!!(sync && sync.hasAttribute("data-kitchen")));
  });
})();
