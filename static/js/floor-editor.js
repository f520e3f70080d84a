// Floor plan editor: drag to move, drag the corner dot to resize, rotate from the inspector.
// Pointer Events serve mouse, pen and touch alike; every change is snapped to the grid, drawn at
// once and saved with a POST carrying the CSRF header. The server validates and answers where the
// table now stands; a refusal puts the table back and shows the reason.
// While a table is dragged over another it is outlined red; dropped there, it goes back where it
// stood with the same message the server gives (app/floor/services.py draws the same outlines).
(function () {
  "use strict";

  var DRAG_THRESHOLD_PX = 4;
  var HANDLE_HIT_PX = 24;
  var HANDLE_DOT_PX = 9;
  var SIZE_MIN = 20;
  var SIZE_MAX = 1000;
  var ELLIPSE_CORNERS = 32;
  var OVERLAP_TOLERANCE = 0.5;
  var queues = {};
  var latest = {};
  var confirmed = {};
  var drag = null;

  function plan() { return document.getElementById("plan-editor"); }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (error) {
      return "";
    }
  }

  function intData(el, name) { return parseInt(el.getAttribute("data-" + name), 10) || 0; }
  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }

  function gridOf(svg) { return intData(svg, "grid") || 10; }
  function snap(value, grid) { return Math.round(value / grid) * grid; }

  function geometryOf(g) {
    return {
      x: intData(g, "x"), y: intData(g, "y"),
      width: intData(g, "width"), height: intData(g, "height"),
      rotation: intData(g, "rotation")
    };
  }

  function draw(g, geo) {
    var cx = geo.width / 2, cy = geo.height / 2;
    ["x", "y", "width", "height", "rotation"].forEach(function (key) { g.setAttribute("data-" + key, String(geo[key])); });
    g.setAttribute("transform", "translate(" + geo.x + " " + geo.y + ") rotate(" + geo.rotation + " " + cx + " " + cy + ")");
    var shape = g.querySelector(".ed-shape");
    if (shape.tagName.toLowerCase() === "ellipse") {
      shape.setAttribute("cx", cx); shape.setAttribute("cy", cy);
      shape.setAttribute("rx", cx); shape.setAttribute("ry", cy);
    } else {
      shape.setAttribute("width", geo.width); shape.setAttribute("height", geo.height);
    }
    // Names stay upright whatever the table's rotation.
    g.querySelectorAll("text").forEach(function (text) {
      text.setAttribute("x", cx);
      text.setAttribute("y", cy);
      text.setAttribute("transform", "rotate(" + -geo.rotation + " " + cx + " " + cy + ")");
    });
    g.querySelector(".ed-handle").setAttribute("transform", "translate(" + geo.width + " " + geo.height + ")");
  }

  function tableById(id) { return document.getElementById("ed-table-" + id); }

  // The outline a table covers: its box or ellipse as a convex polygon, turned about its centre.
  function outline(geo, shape) {
    var hw = geo.width / 2, hh = geo.height / 2, corners = [];
    if (shape === "round" || shape === "bar_seat") {
      for (var k = 0; k < ELLIPSE_CORNERS; k++) {
        var t = 2 * Math.PI * k / ELLIPSE_CORNERS;
        corners.push([hw * Math.cos(t), hh * Math.sin(t)]);
      }
    } else {
      corners = [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]];
    }
    var angle = geo.rotation * Math.PI / 180, cos = Math.cos(angle), sin = Math.sin(angle);
    var cx = geo.x + hw, cy = geo.y + hh;
    return corners.map(function (p) { return [cx + p[0] * cos - p[1] * sin, cy + p[0] * sin + p[1] * cos]; });
  }

  function project(polygon, nx, ny) {
    var low = Infinity, high = -Infinity;
    polygon.forEach(function (p) {
      var v = p[0] * nx + p[1] * ny;
      if (v < low) low = v;
      if (v > high) high = v;
    });
    return [low, high];
  }

  // Separating axis test: two convex outlines overlap unless some edge's normal parts them.
  function outlinesOverlap(a, b) {
    var polygons = [a, b];
    for (var i = 0; i < 2; i++) {
      var polygon = polygons[i];
      for (var j = 0; j < polygon.length; j++) {
        var p1 = polygon[j], p2 = polygon[(j + 1) % polygon.length];
        var nx = p1[1] - p2[1], ny = p2[0] - p1[0], length = Math.hypot(nx, ny);
        if (!length) continue;
        var pa = project(a, nx / length, ny / length), pb = project(b, nx / length, ny / length);
        if (Math.min(pa[1], pb[1]) - Math.max(pa[0], pb[0]) <= OVERLAP_TOLERANCE) return false;
      }
    }
    return true;
  }

  // The other tables a table would stand on where it is drawn now, in the plan's own name order.
  function overlapped(g) {
    var mine = outline(geometryOf(g), g.getAttribute("data-shape"));
    var hit = [];
    plan().querySelectorAll(".ed-table").forEach(function (other) {
      if (other === g) return;
      if (outlinesOverlap(mine, outline(geometryOf(other), other.getAttribute("data-shape")))) hit.push(other);
    });
    return hit.sort(function (a, b) {
      return a.getAttribute("data-name").localeCompare(b.getAttribute("data-name"), undefined, { numeric: true });
    });
  }

  function listed(names) {
    var shown = names.length > 3 ? names.slice(0, 3).concat([(names.length - 3) + " more"]) : names.slice();
    if (shown.length === 1) return "table " + shown[0];
    return "tables " + shown.slice(0, -1).join(", ") + " and " + shown[shown.length - 1];
  }

  function markOverlap(g, hit) {
    plan().querySelectorAll(".ed-table.overlapped").forEach(function (other) { other.classList.remove("overlapped"); });
    g.classList.toggle("overlapping", hit.length > 0);
    hit.forEach(function (other) { other.classList.add("overlapped"); });
    if (hit.length) {
      var names = hit.map(function (other) { return other.getAttribute("data-name"); });
      setState("Overlaps " + listed(names), true);
    } else {
      setState("", false);
    }
  }

  function clearOverlap(g) {
    g.classList.remove("overlapping");
    plan().querySelectorAll(".ed-table.overlapped").forEach(function (other) { other.classList.remove("overlapped"); });
  }

  function toPlan(svg, event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    return point.matrixTransform(svg.getScreenCTM().inverse());
  }

  function pixelsPerUnit(svg) {
    var matrix = svg.getScreenCTM();
    return matrix && matrix.a ? matrix.a : 1;
  }

  // Handles keep a finger-sized target whatever the plan's scale on this screen.
  function sizeHandles() {
    var svg = plan();
    if (!svg) return;
    var scale = pixelsPerUnit(svg);
    svg.querySelectorAll(".ed-handle-hit").forEach(function (c) { c.setAttribute("r", (HANDLE_HIT_PX / scale).toFixed(1)); });
    svg.querySelectorAll(".ed-handle-dot").forEach(function (c) { c.setAttribute("r", (HANDLE_DOT_PX / scale).toFixed(1)); });
  }

  // "Added table 7." floats over the plan for a moment, then leaves it clear.
  function fadeNotices() {
    document.querySelectorAll("#editor .notice").forEach(function (notice) {
      setTimeout(function () { notice.classList.add("fading"); }, 2500);
      setTimeout(function () { notice.remove(); }, 3000);
    });
  }

  function setState(text, failed) {
    var state = document.getElementById("save-state");
    if (!state) return;
    state.textContent = text;
    state.classList.toggle("failed", !!failed);
  }

  function showRefusal(html, message) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    if (html) {
      flash.innerHTML = html;
    } else {
      flash.innerHTML = "";
      var box = document.createElement("div");
      box.className = "flash flash-error";
      box.setAttribute("role", "alert");
      var text = document.createElement("span");
      text.textContent = message || "No connection to the server. The table was put back; try again.";
      var close = document.createElement("button");
      close.type = "button";
      close.className = "flash-close";
      close.setAttribute("aria-label", "Dismiss");
      close.setAttribute("data-dismiss-flash", "");
      close.textContent = "×";
      box.appendChild(text);
      box.appendChild(close);
      flash.appendChild(box);
    }
  }

  function syncInspector(g) {
    var form = document.getElementById("table-form");
    if (!form || form.getAttribute("data-table") !== g.getAttribute("data-id")) return;
    var geo = geometryOf(g);
    Object.keys(geo).forEach(function (key) {
      var input = form.querySelector('input[name="' + key + '"]');
      if (input) input.value = geo[key];
    });
  }

  // Saves of one table run one after another, each sending the geometry of the moment it was made;
  // only the newest answer is drawn, so a quick second change is never undone by the first reply.
  function save(id, previous) {
    var svg = plan();
    var url = svg.getAttribute("data-tables-url") + id + "/place";
    var g = tableById(id);
    if (!g) return Promise.resolve();
    var geo = geometryOf(g);
    if (!(id in confirmed)) confirmed[id] = previous;
    var ticket = (latest[id] || 0) + 1;
    latest[id] = ticket;
    setState("Saving…");
    function settle(placed, ok, html) {
      if (ok) confirmed[id] = placed;
      if (latest[id] !== ticket) return;
      var current = tableById(id);
      if (current) {
        draw(current, ok ? placed : confirmed[id]);
        syncInspector(current);
      }
      if (ok) {
        setState("Saved");
      } else {
        showRefusal(html);
        setState("Not saved", true);
      }
    }
    function run() {
      var body = new URLSearchParams();
      Object.keys(geo).forEach(function (key) { body.append(key, String(geo[key])); });
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "x-csrftoken": csrfToken(),
          "hx-request": "true",
          "Content-Type": "application/x-www-form-urlencoded"
        },
        body: body
      }).then(function (response) {
        var redirect = response.headers.get("HX-Redirect");
        if (redirect) { window.location.href = redirect; return; }
        if (response.ok) {
          return response.json().then(function (placed) { settle(placed, true, null); });
        }
        return response.text().then(function (html) { settle(null, false, html); });
      }).catch(function () { settle(null, false, null); });
    }
    queues[id] = (queues[id] || Promise.resolve()).then(run, run);
    return queues[id];
  }

  function markSelected(id) {
    var svg = plan();
    svg.querySelectorAll(".ed-table.selected").forEach(function (g) { g.classList.remove("selected"); });
    if (id) {
      var g = tableById(id);
      if (g) g.classList.add("selected");
    }
    svg.setAttribute("data-selected", id || "");
  }

  function loadInspector(id) {
    var svg = plan();
    var url = svg.getAttribute("data-editor-url") + (id ? "?table=" + encodeURIComponent(id) : "");
    markSelected(id);
    history.replaceState(history.state, "", url);
    if (window.htmx) {
      return window.htmx.ajax("GET", url, { target: "#inspector", select: "#inspector", swap: "outerHTML" });
    }
    window.location.href = url;
    return null;
  }

  function onPointerDown(event) {
    var svg = event.target.closest ? event.target.closest("#plan-editor") : null;
    if (!svg || svg.getAttribute("data-editable") !== "true") return;
    if (event.pointerType === "mouse" && event.button !== 0) return;
    var g = event.target.closest(".ed-table");
    if (!g) {
      if (svg.getAttribute("data-selected")) loadInspector("");
      return;
    }
    event.preventDefault();
    var resizing = !!event.target.closest(".ed-handle") && g.classList.contains("selected");
    drag = {
      g: g,
      id: g.getAttribute("data-id"),
      svg: svg,
      pointerId: event.pointerId,
      mode: resizing ? "resize" : "move",
      start: toPlan(svg, event),
      origin: geometryOf(g),
      moved: false,
      nextSibling: null
    };
    g.classList.add("dragging");
    svg.setPointerCapture(event.pointerId);
  }

  function onPointerMove(event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    event.preventDefault();
    var svg = drag.svg;
    var here = toPlan(svg, event);
    var dx = here.x - drag.start.x, dy = here.y - drag.start.y;
    if (!drag.moved && Math.hypot(dx, dy) * pixelsPerUnit(svg) < DRAG_THRESHOLD_PX) return;
    if (!drag.moved) {
      // Drawn last while it moves, so it shows on top of any table it passes over.
      drag.nextSibling = drag.g.nextSibling;
      drag.g.parentNode.appendChild(drag.g);
    }
    drag.moved = true;
    var grid = gridOf(svg), width = intData(svg, "width"), height = intData(svg, "height");
    var o = drag.origin;
    var geo = { x: o.x, y: o.y, width: o.width, height: o.height, rotation: o.rotation };
    if (drag.mode === "move") {
      geo.x = clamp(snap(o.x + dx, grid), 0, width - o.width);
      geo.y = clamp(snap(o.y + dy, grid), 0, height - o.height);
    } else {
      // The corner follows the finger in the table's own (rotated) frame.
      var angle = o.rotation * Math.PI / 180;
      var along = dx * Math.cos(angle) + dy * Math.sin(angle);
      var across = -dx * Math.sin(angle) + dy * Math.cos(angle);
      geo.width = clamp(snap(o.width + along, grid), SIZE_MIN, Math.min(SIZE_MAX, width - o.x));
      geo.height = clamp(snap(o.height + across, grid), SIZE_MIN, Math.min(SIZE_MAX, height - o.y));
    }
    draw(drag.g, geo);
    syncInspector(drag.g);
    markOverlap(drag.g, overlapped(drag.g));
  }

  function onPointerUp(event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    var done = drag;
    drag = null;
    done.g.classList.remove("dragging");
    if (done.moved) done.g.parentNode.insertBefore(done.g, done.nextSibling);
    if (done.svg.hasPointerCapture(event.pointerId)) done.svg.releasePointerCapture(event.pointerId);
    var wasSelected = done.svg.getAttribute("data-selected") === done.id;
    if (event.type === "pointercancel") {
      clearOverlap(done.g);
      setState("", false);
      draw(done.g, done.origin);
      syncInspector(done.g);
      return;
    }
    var hit = done.moved ? overlapped(done.g) : [];
    clearOverlap(done.g);
    if (hit.length) {
      // Dropped on another table: back where it stood, with the reason, and nothing sent.
      draw(done.g, done.origin);
      syncInspector(done.g);
      var names = hit.map(function (other) { return other.getAttribute("data-name"); });
      showRefusal(null, "Table " + done.g.getAttribute("data-name") + " would overlap " + listed(names) +
        "; move it to a free spot.");
      setState("Not saved", true);
      if (!wasSelected) loadInspector(done.id);
      return;
    }
    if (done.moved) {
      var saved = save(done.id, done.origin);
      if (!wasSelected) saved.then(function () { loadInspector(done.id); });
    } else if (!wasSelected) {
      loadInspector(done.id);
    }
  }

  function rotateSelected(delta) {
    var svg = plan();
    var id = svg && svg.getAttribute("data-selected");
    var g = id && tableById(id);
    if (!g) return;
    var before = geometryOf(g);
    var geo = geometryOf(g);
    geo.rotation = ((geo.rotation + delta) % 360 + 360) % 360;
    draw(g, geo);
    syncInspector(g);
    save(id, before);
  }

  function onInspectorChange(event) {
    var input = event.target;
    if (!input.matches || !input.matches("#table-form [data-geometry]")) return;
    var form = input.form;
    var g = tableById(form.getAttribute("data-table"));
    if (!g) return;
    var before = geometryOf(g);
    var geo = {};
    var valid = true;
    ["x", "y", "width", "height", "rotation"].forEach(function (key) {
      var value = parseInt(form.querySelector('input[name="' + key + '"]').value, 10);
      if (isNaN(value)) valid = false;
      geo[key] = value;
    });
    if (!valid) {
      syncInspector(g);
      return;
    }
    geo.rotation = ((geo.rotation % 360) + 360) % 360;
    draw(g, geo);
    save(g.getAttribute("data-id"), before);
  }

  function onClick(event) {
    var rotate = event.target.closest ? event.target.closest("[data-rotate]") : null;
    if (rotate && plan()) {
      event.preventDefault();
      rotateSelected(parseInt(rotate.getAttribute("data-rotate"), 10) || 0);
    }
  }

  function onKeyDown(event) {
    var g = event.target.closest ? event.target.closest(".ed-table") : null;
    var svg = plan();
    if (!g || !svg || svg.getAttribute("data-editable") !== "true") return;
    var id = g.getAttribute("data-id");
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      loadInspector(id);
      return;
    }
    var steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
    if (!steps) return;
    event.preventDefault();
    var grid = gridOf(svg) * (event.shiftKey ? 5 : 1);
    var before = geometryOf(g);
    var geo = geometryOf(g);
    geo.x = clamp(geo.x + steps[0] * grid, 0, intData(svg, "width") - geo.width);
    geo.y = clamp(geo.y + steps[1] * grid, 0, intData(svg, "height") - geo.height);
    draw(g, geo);
    syncInspector(g);
    save(id, before);
  }

  function onShapeChoice(event) {
    var radio = event.target;
    if (!radio.matches || !radio.matches('.add-table input[name="shape"]')) return;
    var seats = radio.form.querySelector('input[name="seats"]');
    if (seats && radio.getAttribute("data-seats")) seats.value = radio.getAttribute("data-seats");
  }

  document.addEventListener("pointerdown", onPointerDown);
  document.addEventListener("pointermove", onPointerMove);
  document.addEventListener("pointerup", onPointerUp);
  document.addEventListener("pointercancel", onPointerUp);
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("change", onInspectorChange);
  document.addEventListener("change", onShapeChoice);
  document.addEventListener("DOMContentLoaded", sizeHandles);
  document.addEventListener("htmx:afterSettle", sizeHandles);
  document.addEventListener("htmx:afterSettle", fadeNotices);
  document.addEventListener("DOMContentLoaded", fadeNotices);
  window.addEventListener("resize", sizeHandles);
})();
