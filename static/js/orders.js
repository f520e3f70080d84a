// Table service on a tablet: category tabs, modifier rules, sheets and their messages, keypads, and the live floor
// and check.
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
      checkField(input);
      return;
    }

    var fill = closest(target, "[data-fill]");
    if (fill) {
      var field = document.getElementById(fill.getAttribute("data-fill"));
      if (field) {
        field.value = fill.getAttribute("data-value");
        checkField(field);
      }
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

  // Choosing only answers the question: the line is rung in when the server taps Add, never before.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.hasAttribute && input.hasAttribute("data-max") && input.name === "quantity") checkField(input);
    var fieldset = closest(input, "fieldset.question");
    if (!fieldset) return;
    var rule = questionState(fieldset);
    if (input.type === "checkbox" && input.checked && rule.picked > rule.max) {
      input.checked = false;
      fieldset.classList.add("too-many");
      setTimeout(function () { fieldset.classList.remove("too-many"); }, 1500);
    }
    rule = questionState(fieldset);
    fieldset.classList.toggle("answered", rule.picked >= rule.min);
  });

  // ------------------------------------------------------------------ dialogs say what is wrong, inside themselves
  function dialogOf(el) {
    return closest(el, "#sheet .sheet");
  }

  // The message line of the form `el` is in (else of its dialog), just above the button the server tapped.
  function messageLine(el) {
    var form = closest(el, "form");
    var line = form && dialogOf(form) ? form.querySelector(".sheet-error") : null;
    if (!line) {
      var dialog = dialogOf(el);
      line = dialog ? dialog.querySelector(".sheet-error") : null;
    }
    return line;
  }

  function say(el, text, from) {
    var line = messageLine(el);
    if (!line) return false;
    line.textContent = text;
    if (from) line.setAttribute("data-from", from);
    else line.removeAttribute("data-from");
    if (text && line.scrollIntoView) line.scrollIntoView({ block: "nearest" });
    return true;
  }

  function length(value) {
    return Array.from(value.trim()).length;
  }

  // The same words the server uses, so a message reads the same whichever side caught it.
  function problemWith(input) {
    var label = input.getAttribute("data-label") || "This";
    if (input.hasAttribute("data-limit")) {
      var limit = parseInt(input.getAttribute("data-limit"), 10);
      var used = length(input.value);
      if (used > limit) return label + " is " + used + " characters; the limit is " + limit + ".";
    }
    if (input.name === "quantity" && input.hasAttribute("data-max")) {
      var raw = input.value.trim();
      var max = parseInt(input.getAttribute("data-max"), 10);
      if (!/^[+-]?[0-9]+$/.test(raw)) return label + " must be a whole number.";
      var n = parseInt(raw, 10);
      if (n < 1 || n > max) return label + " must be between 1 and " + max + ".";
    }
    return "";
  }

  function fieldKey(input) {
    return input.id || input.name;
  }

  // A field's counter and its message follow what is typed, as it is typed.
  function checkField(input) {
    if (input.hasAttribute("data-limit")) {
      var count = input.parentElement.querySelector(".char-count");
      var limit = parseInt(input.getAttribute("data-limit"), 10);
      var used = length(input.value);
      if (count) {
        count.textContent = used + "/" + limit;
        count.classList.toggle("over", used > limit);
      }
    }
    var problem = problemWith(input);
    if (problem) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    var line = messageLine(input);
    if (problem) say(input, problem, fieldKey(input));
    else if (line && line.getAttribute("data-from") === fieldKey(input)) say(input, "");
    return problem;
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.hasAttribute && input.hasAttribute("data-limit") && dialogOf(input)) checkField(input);
  });

  // Checked before anything is sent: the first problem is said in the dialog and its field is focused.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM" || !dialogOf(form)) return;
    var first = null;
    form.querySelectorAll("input[data-limit], input[data-max]").forEach(function (input) {
      var problem = checkField(input);
      if (problem && !first) first = { input: input, problem: problem };
    });
    if (first) {
      event.preventDefault();
      say(form, first.problem, fieldKey(first.input));
      first.input.focus();
    } else {
      say(form, "");
    }
  });

  // A refusal of what a dialog sent is said in that dialog, which keeps everything typed in it.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var elt = detail.requestConfig && detail.requestConfig.elt;
    if (!detail.xhr || detail.xhr.status < 400 || !detail.target || detail.target.id !== "flash") return;
    if (!elt || !dialogOf(elt) || !messageLine(elt)) return;
    var holder = document.createElement("template");
    holder.innerHTML = detail.serverResponse || "";
    var text = holder.content.querySelector(".flash span") || holder.content;
    say(elt, (text.textContent || "").trim() || "That was refused; nothing was changed.");
    detail.shouldSwap = false;
    var form = closest(elt, "form");
    if (form && detail.xhr.status === 403) {
      // A refused PIN is typed again from the start, on the same pad.
      form.querySelectorAll('input[type="password"]').forEach(function (pin) { pin.value = ""; });
    }
  });

  // A redraw of the check asked for before a change landed can come back after that change's own answer: the
  // panel already showing the newer version stays (versions only go up).
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.xhr || detail.xhr.status >= 400 || !detail.target || detail.target.id !== "check-panel") return;
    var shown = parseInt(detail.target.getAttribute("data-version") || "", 10);
    var holder = document.createElement("template");
    holder.innerHTML = detail.serverResponse || "";
    var incoming = holder.content.querySelector("#check-panel");
    var arriving = incoming ? parseInt(incoming.getAttribute("data-version") || "", 10) : NaN;
    if (!isNaN(shown) && !isNaN(arriving) && arriving < shown) detail.shouldSwap = false;
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
