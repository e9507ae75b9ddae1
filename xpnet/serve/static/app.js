// xpnet serve: draw on the pad, send it to POST /api/predict as you draw, show every layer.
// Plain JavaScript, no libraries; the page talks only to GET /api/model, GET /api/weights.png
// and POST /api/predict on the server that served it.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const pad = $("pad");
  const ctx = pad.getContext("2d");
  const TOP_UNITS = 8;          // how many of the most active first-layer units to highlight
  const MIN_INTERVAL_MS = 60;   // while the pen moves, at most one request starts per this long
  const TIMEOUT_MS = 30000;     // give up on an answer after this long (and send the newest drawing)
  const LINE_WIDTH = pad.width / 13;

  const state = {
    model: null,
    sprite: null,               // the W1 tiles (an <img> of /api/weights.png)
    drawing: false,
    last: null,                 // last pointer position while drawing
    hasInk: false,
    timer: null,                // waits out MIN_INTERVAL_MS before the next request
    inflight: false,            // a request is on its way: never more than one
    dirty: false,               // the pad changed since the drawing last sent
    lastSent: -Infinity,        // when the last request started (performance.now())
    sent: 0,                    // requests sent so far (document.body.dataset.sent, for tests)
    generation: 0,              // bumped by Clear, so late answers for an old drawing are dropped
  };

  // -- the drawing pad ---------------------------------------------------------------------
  function clearPad() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
  }

  function position(event) {
    const r = pad.getBoundingClientRect();
    return { x: (event.clientX - r.left) * (pad.width / r.width),
             y: (event.clientY - r.top) * (pad.height / r.height) };
  }

  function strokeTo(p) {
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = LINE_WIDTH;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    if (state.last) {
      ctx.beginPath();
      ctx.moveTo(state.last.x, state.last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
    } else {
      ctx.beginPath();
      ctx.arc(p.x, p.y, LINE_WIDTH / 2, 0, 2 * Math.PI);
      ctx.fill();
    }
    state.last = p;
    state.hasInk = true;
  }

  pad.addEventListener("pointerdown", (e) => {
    if (e.button !== undefined && e.button > 0) return;
    e.preventDefault();
    try {
      pad.setPointerCapture(e.pointerId);   // keep the stroke when the pointer leaves the pad
    } catch (err) { /* a pointer the browser does not track (synthetic events): draw anyway */ }
    state.drawing = true;
    state.last = null;
    strokeTo(position(e));
    changed();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!state.drawing) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const ev of (events.length ? events : [e])) strokeTo(position(ev));
    changed();
  });
  const endStroke = (e) => {
    if (!state.drawing) return;
    state.drawing = false;
    state.last = null;
    try {
      if (pad.hasPointerCapture(e.pointerId)) pad.releasePointerCapture(e.pointerId);
    } catch (err) { /* see pointerdown */ }
    changed();
  };
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);
  pad.addEventListener("contextmenu", (e) => e.preventDefault());

  function clearAll() {
    clearPad();
    state.hasInk = false;
    state.generation += 1;
    state.dirty = false;
    clearTimeout(state.timer);
    state.timer = null;
    pump();
    showEmpty("Draw one digit, large, in the middle.");
  }
  $("clear").addEventListener("click", clearAll);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") clearAll();
  });

  // -- asking the server -------------------------------------------------------------------
  // At most one request is in flight. While it is, the pad only notes that it changed; when the
  // answer comes, the pad as it is then (the newest drawing) goes next, and every drawing in
  // between is never sent. So a slow server gets one request at a time and the answers follow
  // the pen as fast as the server answers, without a queue of stale strokes.
  function changed() {
    state.dirty = true;
    pump();
  }

  function pump() {
    if (!state.hasInk) state.dirty = false;
    if (state.dirty && !state.inflight && state.timer === null) {
      const wait = state.lastSent + MIN_INTERVAL_MS - performance.now();
      if (wait > 0) state.timer = setTimeout(() => { state.timer = null; pump(); }, wait);
      else send();
    }
    // "true" while a drawing is on its way or waiting to go (tests wait for "false")
    document.body.dataset.busy = String(state.inflight || state.dirty);
  }

  function send() {
    state.inflight = true;
    state.dirty = false;           // toBlob copies the pad now: later strokes make it dirty again
    state.lastSent = performance.now();
    state.sent += 1;
    document.body.dataset.sent = String(state.sent);
    const generation = state.generation;
    pad.toBlob(async (blob) => {
      const abort = new AbortController();
      const timeout = setTimeout(() => abort.abort(), TIMEOUT_MS);
      try {
        const response = await fetch("/api/predict", {
          method: "POST", headers: { "Content-Type": "image/png" }, body: blob, signal: abort.signal,
        });
        const body = await response.json();
        if (generation !== state.generation) return;   // the pad was cleared meanwhile
        if (response.ok) show(body);
        else if (body.reason === "nothing_drawn") showEmpty("Nothing drawn yet: draw a digit.");
        else if (body.reason === "several_marks") { showEmpty(body.error); $("status").classList.add("error"); }
        else showError(body.error || `the server answered ${response.status}`);
      } catch (err) {
        const why = err.name === "AbortError" ? `no answer within ${TIMEOUT_MS / 1000} s` : err.message;
        if (generation === state.generation) showError(`no answer from the server (${why})`);
      } finally {
        clearTimeout(timeout);
        state.inflight = false;
        pump();                    // the newest drawing, if the pad changed meanwhile
      }
    }, "image/png");
  }

  // -- building the panels from /api/model ---------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function percent(x, digits = 1) {
    return `${(100 * x).toFixed(digits)} %`;
  }

  function buildPanels(model) {
    const arch = model.sizes.join("-");
    const bits = [`${arch} ${model.activation}`, `${model.n_params.toLocaleString("en")} parameters`];
    if (model.dataset && model.dataset.name) bits.push(`trained on ${model.dataset.name}`);
    if (model.accuracy !== null && model.accuracy !== undefined) {
      bits.push(`test accuracy ${percent(model.accuracy, 2)}` + (model.n_test ? ` on ${model.n_test.toLocaleString("en")} images` : ""));
    }
    if (model.warning) bits.push(`note: ${model.warning}`);
    $("model-summary").textContent = bits.join(" · ");
    $("footer-info").textContent = `${model.checkpoint} · ${model.preprocessing} · running on ${model.backend.spec} (${model.backend.device})`;

    const hidden = model.layers.slice(0, -1);
    const output = model.layers[model.layers.length - 1];
    const layers = $("layers");
    layers.replaceChildren();
    if (!hidden.length) layers.append(el("p", "note", "This model has no hidden layer: X goes straight to the softmax."));
    hidden.forEach((layer, i) => {
      const box = el("div", "layer");
      box.dataset.layer = layer.name;
      const head = el("div", "layer-head");
      head.append(el("span", "eq", layer.equation), el("span", "units", `${layer.units} units`));
      const strip = el("div", "strip");
      strip.id = `strip-${i}`;
      strip.style.setProperty("--columns", Math.min(layer.units, 64));
      for (let k = 0; k < layer.units; k++) {
        const cell = el("div", "cell");
        cell.title = `${layer.name}[${k}]`;
        strip.append(cell);
      }
      box.append(head, strip);
      layers.append(box);
    });

    $("output-eq").textContent = output.equation;
    const bars = $("bars");
    bars.replaceChildren();
    model.class_names.forEach((name, k) => {
      const row = el("div", "bar-row");
      row.append(el("span", "bar-label", name));
      const track = el("span", "bar-track");
      track.append(el("span", "bar-fill"));
      row.append(track, el("span", "bar-value", ""));
      bars.append(row);
    });

    const weights = $("weights");
    weights.replaceChildren();
    const n = model.weights.count;
    const size = n <= 32 ? 56 : n <= 128 ? 42 : 28;
    for (let k = 0; k < n; k++) {
      const tile = el("canvas", "tile");
      tile.width = 28;
      tile.height = 28;
      tile.style.width = tile.style.height = `${size}px`;
      tile.title = `unit ${k} of A1: row ${k} of W1`;
      weights.append(tile);
    }
    state.sprite = new Image();
    state.sprite.onload = drawTiles;
    state.sprite.src = model.weights.url;
  }

  function spriteTile(target, k) {
    const w = state.model.weights;
    const t = w.tile;
    const c = target.getContext("2d");
    c.drawImage(state.sprite, (k % w.columns) * t, Math.floor(k / w.columns) * t, t, t, 0, 0, target.width, target.height);
  }

  function drawTiles() {
    document.querySelectorAll("#weights .tile").forEach((tile, k) => spriteTile(tile, k));
    document.body.dataset.weights = "ready";
  }

  // -- showing an answer -------------------------------------------------------------------
  function cellColor(v, scale, signed) {
    const t = scale > 0 ? Math.min(1, Math.abs(v) / scale) : 0;
    if (signed && v < 0) return `rgb(${Math.round(20 + 40 * t)}, ${Math.round(20 + 120 * t)}, ${Math.round(30 + 225 * t)})`;
    return `rgb(${Math.round(22 + 233 * t)}, ${Math.round(24 + 176 * t)}, ${Math.round(30 + 60 * t * t)})`;
  }

  function show(answer) {
    document.body.dataset.state = "predicted";
    $("status").textContent = "Keep drawing, or Clear to start again.";
    $("status").classList.remove("error");

    const prediction = $("prediction");
    prediction.textContent = answer.label;
    prediction.dataset.index = String(answer.prediction);
    $("confidence").textContent = `${percent(answer.probabilities[answer.prediction])} sure`;

    // X: the 28×28 input, drawn pixel by pixel
    const view = $("input-view");
    const vc = view.getContext("2d");
    const image = vc.createImageData(28, 28);
    answer.input.forEach((row, i) => row.forEach((v, j) => {
      const o = 4 * (28 * i + j);
      const g = Math.round(255 * v);
      image.data[o] = image.data[o + 1] = image.data[o + 2] = g;
      image.data[o + 3] = 255;
    }));
    vc.putImageData(image, 0, 0);
    view.dataset.ready = "true";

    // A1, A2, ...: one strip of cells per hidden layer
    const hidden = answer.layers.slice(0, -1);
    hidden.forEach((layer, i) => {
      const values = layer.values;
      const signed = values.some((v) => v < 0);
      const scale = Math.max(...values.map(Math.abs));
      const cells = $(`strip-${i}`).children;
      values.forEach((v, k) => {
        cells[k].style.backgroundColor = cellColor(v, scale, signed);
        cells[k].title = `${layer.name}[${k}] = ${v.toFixed(3)}`;
      });
      $(`strip-${i}`).dataset.ready = "true";
    });

    // the softmax output as bars
    const rows = $("bars").children;
    answer.probabilities.forEach((p, k) => {
      const row = rows[k];
      row.classList.toggle("top", k === answer.prediction);
      row.querySelector(".bar-fill").style.width = `${(100 * p).toFixed(2)}%`;
      row.querySelector(".bar-value").textContent = percent(p);
    });

    // W1: outline the most active units of A1 (the first layer's output)
    const first = answer.layers[0].values;
    const order = first.map((v, k) => [v, k]).sort((a, b) => b[0] - a[0]);
    const best = order.slice(0, TOP_UNITS).filter(([v]) => v > 0);
    const peak = best.length ? best[0][0] : 0;
    const tiles = document.querySelectorAll("#weights .tile");
    tiles.forEach((tile, k) => {
      const v = first[k];
      tile.classList.remove("active");
      tile.style.opacity = peak > 0 ? String(0.3 + 0.7 * Math.max(0, Math.min(1, v / peak))) : "1";
    });
    best.forEach(([, k]) => tiles[k] && tiles[k].classList.add("active"));
    const top = $("top-units");
    top.replaceChildren();
    if (state.sprite && state.sprite.complete) {
      for (const [v, k] of best) {
        const card = el("figure", "unit");
        const big = el("canvas", "tile big");
        big.width = big.height = 28;
        spriteTile(big, k);
        card.append(big, el("figcaption", "", `A1[${k}] = ${v.toFixed(2)}`));
        top.append(card);
      }
    }
  }

  function showEmpty(message) {
    document.body.dataset.state = "empty";
    $("status").textContent = message;
    $("status").classList.remove("error");
    const prediction = $("prediction");
    prediction.textContent = "–";
    delete prediction.dataset.index;
    $("confidence").textContent = "";
    const view = $("input-view");
    view.getContext("2d").clearRect(0, 0, 28, 28);
    delete view.dataset.ready;
    document.querySelectorAll(".strip .cell").forEach((c) => { c.style.backgroundColor = ""; });
    document.querySelectorAll(".strip").forEach((s) => { delete s.dataset.ready; });
    document.querySelectorAll("#bars .bar-row").forEach((row) => {
      row.classList.remove("top");
      row.querySelector(".bar-fill").style.width = "0";
      row.querySelector(".bar-value").textContent = "";
    });
    document.querySelectorAll("#weights .tile").forEach((t) => { t.classList.remove("active"); t.style.opacity = "1"; });
    $("top-units").replaceChildren();
  }

  function showError(message) {
    $("status").textContent = message;
    $("status").classList.add("error");
  }

  // -- start -------------------------------------------------------------------------------
  clearPad();
  fetch("/api/model")
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`GET /api/model answered ${r.status}`))))
    .then((model) => {
      state.model = model;
      buildPanels(model);
      document.body.dataset.state = "empty";
    })
    .catch((err) => showError(`cannot load the model: ${err.message}`));
})();
