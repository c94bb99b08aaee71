// The lab page: a thin view of the Python session. Training runs on the server (the real
// engine); this script sends the knobs, draws what the server says, and keeps its own state
// readable as window.microgradnet for scripts and tests.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const mg = (window.microgradnet = {
    input: null, output: null, epoch: 0, step: 0, cost: null, mode: "paused", version: 0,
    forwards: 0, edits: 0, testAccuracy: null, saved: null,
  });
  const local = { costs: [], every: 1, version: -1, state: null, selected: null, sizes: null, shape: null };
  const CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  // ----- talking to the server -----------------------------------------------------------------
  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    const r = await fetch(path, opts);
    const data = await r.json().catch(() => ({ error: r.statusText }));
    if (!r.ok) throw new Error(data.error || r.statusText);
    return data;
  }
  function say(text) { $("message").textContent = text || ""; }
  async function act(fn) {
    try { say(""); return await fn(); } catch (e) { say(e.message); return null; }
  }

  // ----- building and training -------------------------------------------------------------------
  function hiddenSizes() {
    const text = $("f-hidden").value.trim();
    if (!text) return [];
    return text.split(/[,\s-]+/).filter(Boolean).map(Number);
  }
  $("build").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(async () => {
      const st = await api("/api/build", {
        dataset: $("f-dataset").value, hidden: hiddenSizes(), activation: $("f-activation").value,
        loss: $("f-loss").value, seed: Number($("f-seed").value), lr: Number($("c-lr").value),
        batch_size: Number($("c-batch").value),
      });
      showState(st);
      await afterBuild();
    });
  });
  const control = (action) => act(async () => showState(await api("/api/control", { action })));
  $("b-play").onclick = () => control("play");
  $("b-pause").onclick = () => control("pause");
  $("b-step").onclick = () => control("step");
  $("b-epoch").onclick = () => control("epoch");
  $("c-lr").addEventListener("change", () =>
    act(async () => showState(await api("/api/control", { action: "set", lr: Number($("c-lr").value) }))));
  $("c-batch").addEventListener("change", () =>
    act(async () => showState(await api("/api/control", { action: "set", batch_size: Number($("c-batch").value) }))));

  function showState(st) {
    if (!st || st.version < local.version) return;  // an update sent before the last build
    if (st.version !== local.version) {
      local.version = st.version;
      local.costs = [];
      local.every = st.step_every;
      if (st.step_costs_from > 0) { refetchCosts(); }
    }
    if (st.step_every !== local.every) { local.every = st.step_every; refetchCosts(); }
    if (st.step_costs_from === local.costs.length) local.costs.push(...st.step_costs);
    else if (st.step_costs_from === 0 && st.step_costs.length) local.costs = st.step_costs.slice();
    local.state = st;
    Object.assign(mg, { epoch: st.epoch, step: st.step, cost: st.cost, mode: st.mode, version: st.version,
      epochCost: st.epoch_cost });
    const s = st.settings;
    const acc = st.test_accuracy.length ? st.test_accuracy[st.test_accuracy.length - 1] : st.start_accuracy;
    mg.testAccuracy = acc;
    $("status").textContent =
      `${st.mode === "paused" ? "paused" : "training"} · epoch ${st.epoch + 1}, batch ` +
      `${Math.ceil(st.position / s.batch_size)}/${st.batches_per_epoch} · step ${st.step} · cost ` +
      `${st.cost === null ? "–" : st.cost.toFixed(4)} · test accuracy ${(100 * acc).toFixed(1)}%`;
    if (document.activeElement !== $("c-lr")) $("c-lr").value = s.lr;
    if (document.activeElement !== $("c-batch")) $("c-batch").value = s.batch_size;
    $("b-play").disabled = st.running;
    $("b-pause").disabled = !st.running;
    $("b-explain").disabled = st.running;
    $("b-undo").disabled = !st.can_undo;
    const hints = $("hints");
    hints.replaceChildren(...st.hints.map((h) => Object.assign(document.createElement("li"), { textContent: h })));
    if (st.error) say(st.error);
    drawCostChart();
  }
  async function refetchCosts() {
    const st = await api("/api/state?since=0");
    local.costs = st.step_costs.slice();
    local.every = st.step_every;
    drawCostChart();
  }

  function drawCostChart() {
    const st = local.state;
    const cv = $("cost-chart");
    const ctx = cv.getContext("2d");
    const W = cv.width, H = cv.height, L = 44, R = 44, T = 10, B = 24;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#5d6678";
    ctx.strokeStyle = "#d8dce4";
    ctx.strokeRect(L, T, W - L - R, H - T - B);
    if (!st) return;
    const costs = local.costs;
    const epochs = st.epoch_cost;
    const finite = costs.filter(Number.isFinite).concat(epochs);
    const top = finite.length ? Math.max(...finite) * 1.05 || 1 : 1;
    const steps = Math.max(st.step, 1);
    const x = (s) => L + (W - L - R) * (s / steps);
    const y = (c) => T + (H - T - B) * (1 - Math.min(c, top) / top);
    ctx.fillText(top.toPrecision(2), 4, T + 9);
    ctx.fillText("0", 4, H - B);
    ctx.fillText(`steps (${steps})`, W / 2 - 20, H - 6);
    ctx.fillText("100%", W - R + 4, T + 9);
    ctx.fillText("0%", W - R + 4, H - B);
    ctx.strokeStyle = "#a3bffa";
    ctx.beginPath();
    costs.forEach((c, i) => { const px = x((i + 1) * local.every), py = y(c); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
    ctx.stroke();
    const perEpoch = st.batches_per_epoch;
    ctx.strokeStyle = "#2b6cb0"; ctx.fillStyle = "#2b6cb0"; ctx.lineWidth = 2;
    ctx.beginPath();
    epochs.forEach((c, i) => { const px = x((i + 1) * perEpoch), py = y(c); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
    ctx.stroke();
    const yAcc = (a) => T + (H - T - B) * (1 - a);
    ctx.strokeStyle = "#2f855a"; ctx.fillStyle = "#2f855a";
    ctx.beginPath();
    st.test_accuracy.forEach((a, i) => {
      const px = x((i + 1) * perEpoch), py = yAcc(a);
      i ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
    });
    ctx.stroke();
    st.test_accuracy.forEach((a, i) => { ctx.beginPath(); ctx.arc(x((i + 1) * perEpoch), yAcc(a), 3, 0, 7); ctx.fill(); });
    ctx.lineWidth = 1;
  }

  // ----- the stream of updates -----------------------------------------------------------------
  let weightsDue = 0;
  function listen() {
    const es = new EventSource("/api/stream");
    es.onmessage = (ev) => {
      const st = JSON.parse(ev.data);
      if (st.version < local.version) return;
      const rebuilt = st.version !== local.version;
      showState(st);
      if (rebuilt) { afterBuild(); return; }
      const now = Date.now();
      if (rebuilt || (st.running && now > weightsDue) || (!st.running && weightsDue !== 0)) {
        weightsDue = st.running ? now + 1000 : 0;  // the pictures once a second while training
        refreshPictures();
      }
    };
    es.onerror = () => { say("lost the connection to the lab; is it still running?"); };
    es.onopen = () => { if ($("message").textContent.startsWith("lost")) say(""); };
  }
  async function refreshPictures() {
    const w = await act(() => api("/api/weights"));
    if (w) drawWeights(w);
    if (mg.input) await runForward();
    mg.pictures = (mg.pictures || 0) + 1;  // the panels are drawn anew: their layout has settled
  }

  // ----- weights -----------------------------------------------------------------------------
  function paintSigned(canvas, values, shape) {
    const [h, w] = shape;
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(w, h);
    const big = Math.max(1e-12, ...values.map(Math.abs));
    values.forEach((v, i) => {
      const t = Math.min(1, Math.abs(v) / big);
      const [r, g, b] = v >= 0 ? [197, 48, 48] : [43, 108, 176];  // red positive, blue negative
      img.data[4 * i] = 255 - t * (255 - r); img.data[4 * i + 1] = 255 - t * (255 - g);
      img.data[4 * i + 2] = 255 - t * (255 - b); img.data[4 * i + 3] = 255;
    });
    ctx.putImageData(img, 0, 0);
  }
  function paintGray(canvas, values, shape) {
    const [h, w] = shape;
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(w, h);
    values.forEach((v, i) => {
      const g = Math.round(255 * Math.max(0, Math.min(1, v)));
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g; img.data[4 * i + 3] = 255;
    });
    ctx.putImageData(img, 0, 0);
  }
  function drawWeights(w) {
    local.shape = w.image_shape;
    const box = $("weight-images");
    if (w.image_shape) {
      box.replaceChildren(...w.images.map((vals, j) => {
        const fig = document.createElement("figure");
        const cv = document.createElement("canvas");
        paintSigned(cv, vals, w.image_shape);
        fig.append(cv, Object.assign(document.createElement("figcaption"), { textContent: `neuron ${j}` }));
        return fig;
      }));
    } else {
      box.textContent = "the inputs are not an image";
    }
    $("histograms").replaceChildren(...w.histograms.map((hst) => {
      const fig = document.createElement("figure");
      const cv = document.createElement("canvas");
      cv.width = 170; cv.height = 70;
      const ctx = cv.getContext("2d");
      const n = hst.now.length;
      const top = Math.max(1, ...hst.now, ...hst.start);
      const bw = cv.width / n;
      ctx.fillStyle = "#cbd2dc";
      hst.start.forEach((c, i) => ctx.fillRect(i * bw, cv.height - (c / top) * cv.height, bw - 1, (c / top) * cv.height));
      ctx.strokeStyle = "#2b6cb0"; ctx.lineWidth = 1.5;
      ctx.beginPath();
      hst.now.forEach((c, i) => {
        const yy = cv.height - (c / top) * cv.height;
        i ? ctx.lineTo(i * bw, yy) : ctx.moveTo(0, yy); ctx.lineTo((i + 1) * bw, yy);
      });
      ctx.stroke();
      const lo = hst.edges[0], hi = hst.edges[hst.edges.length - 1];
      fig.append(cv, Object.assign(document.createElement("figcaption"),
        { textContent: `layer ${hst.layer + 1}: ${lo.toFixed(2)} … ${hi.toFixed(2)}` }));
      return fig;
    }));
  }

  // ----- draw a digit ---------------------------------------------------------------------------
  const pad = $("pad");
  const pctx = pad.getContext("2d", { willReadFrequently: true });
  function clearPad() {
    pctx.fillStyle = "#000"; pctx.fillRect(0, 0, pad.width, pad.height);
  }
  clearPad();
  let drawing = false, last = null;
  function padPoint(ev) {
    const r = pad.getBoundingClientRect();
    return [(ev.clientX - r.left) * (pad.width / r.width), (ev.clientY - r.top) * (pad.height / r.height)];
  }
  pad.addEventListener("pointerdown", (ev) => {
    drawing = true; last = padPoint(ev); pad.setPointerCapture(ev.pointerId); stroke(last, last);
  });
  pad.addEventListener("pointermove", (ev) => { if (drawing) { const p = padPoint(ev); stroke(last, p); last = p; } });
  const endStroke = () => { if (drawing) { drawing = false; useDrawing(); } };
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);
  function stroke(a, b) {
    pctx.strokeStyle = "#fff"; pctx.lineCap = "round"; pctx.lineJoin = "round"; pctx.lineWidth = 20;
    pctx.beginPath(); pctx.moveTo(a[0], a[1]); pctx.lineTo(b[0], b[1]); pctx.stroke();
  }
  $("b-clear").onclick = () => { clearPad(); mg.input = null; mg.output = null; $("answer").textContent = ""; drawNetwork(null); };
  $("b-sample").onclick = () => act(async () => {
    const st = local.state;
    const id = Math.floor(Math.random() * Math.min(st.test_size, 1000));
    const got = await api("/api/images", { ids: [id] });
    const shape = got.image_shape || [1, got.images[0].length];
    clearPad();
    const tmp = document.createElement("canvas");
    paintGray(tmp, got.images[0], shape);
    pctx.imageSmoothingEnabled = false;
    pctx.drawImage(tmp, 0, 0, pad.width, pad.height);
    mg.input = got.images[0];
    await runForward();
  });

  // The drawing becomes the network's input the way the training images were made
  // (prepare.js, shared with mg.viz.digit_page).
  function padGray() {
    const d = pctx.getImageData(0, 0, pad.width, pad.height).data;
    const g = new Float64Array(pad.width * pad.height);
    for (let i = 0; i < g.length; i++) g[i] = d[4 * i] / 255;
    return g;
  }
  function useDrawing() {
    const spec = local.state && local.state.preparation;
    if (!spec) { say("this network's inputs are not a square picture: there is nothing to draw"); return; }
    mg.input = window.microgradnetPrepare(padGray(), pad.width, spec);
    act(runForward);
  }

  async function runForward() {
    if (!mg.input) return;
    const res = await api("/api/forward", { input: mg.input });
    mg.output = res.output;
    mg.activations = res.activations;
    mg.answer = res.answer;
    mg.forwards += 1;
    showAnswer(res);
    drawNetwork(res);
    if (local.selected) await showNeuron();
  }
  function showAnswer(res) {
    const box = $("answer");
    const vals = res.probabilities || res.output;
    const top = Math.max(...vals.map(Math.abs), 1e-12);
    const rows = vals.map((v, i) => {
      const tr = document.createElement("tr");
      if (i === res.answer) tr.className = "best";
      const bar = document.createElement("span");
      bar.style.width = `${Math.max(0, (60 * v) / top)}px`;
      tr.append(Object.assign(document.createElement("td"), { textContent: res.classes[i] }),
        Object.assign(document.createElement("td"), { textContent: v.toFixed(3) }),
        Object.assign(document.createElement("td"), { className: "bar" }));
      tr.lastChild.append(bar);
      return tr;
    });
    const table = document.createElement("table");
    table.append(...rows);
    box.replaceChildren(Object.assign(document.createElement("div"), { className: "big", textContent: res.classes[res.answer] }),
      Object.assign(document.createElement("div"), { textContent: res.probabilities ? "softmax of the outputs" : "output activations" }),
      table);
  }

  // ----- the lit network --------------------------------------------------------------------------
  const SVGNS = "http://www.w3.org/2000/svg";
  const MAX_SHOWN = 20;
  function el(name, attrs) {
    const e = document.createElementNS(SVGNS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }
  function drawNetwork(res) {
    const svg = $("network");
    const sizes = local.sizes || [];
    const W = svg.clientWidth || 560, H = 300;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    if (!sizes.length) return;
    const cols = sizes.length;
    const xOf = (l) => 40 + ((W - 80) * l) / (cols - 1);
    const shown = (n) => Math.min(n, MAX_SHOWN);
    const yOf = (l, j) => { const n = shown(sizes[l]); return 20 + ((H - 40) * (j + 0.5)) / n; };
    const off = new Set(((res && res.switched_off) || []).map((p) => p.join(",")));
    // The input: the image itself, when there is one.
    if (res && local.shape) {
      const cv = document.createElement("canvas");
      paintGray(cv, res.activations[0], local.shape);
      svg.append(el("image", { href: cv.toDataURL(), x: xOf(0) - 30, y: H / 2 - 30, width: 60, height: 60 }));
    }
    svg.append(Object.assign(el("text", { x: xOf(0) - 30, y: H - 4 }), { textContent: `${sizes[0]} inputs` }));
    // The weights between later layers: red positive, blue negative (as in every picture of
    // microgradnet), bolder when larger.
    if (res) {
      res.weights.forEach((w, k) => {
        const l = k + 1;
        if (!w || l + 1 >= cols) return;
        const big = Math.max(1e-12, ...w.flat().map(Math.abs));
        for (let i = 0; i < shown(sizes[l]); i++) for (let j = 0; j < shown(sizes[l + 1]); j++) {
          const t = Math.abs(w[i][j]) / big;
          if (t < 0.15) continue;
          svg.append(el("line", { x1: xOf(l), y1: yOf(l, i), x2: xOf(l + 1), y2: yOf(l + 1, j),
            stroke: w[i][j] > 0 ? "#c53030" : "#2b6cb0", "stroke-opacity": (0.15 + 0.7 * t).toFixed(2),
            "stroke-width": (0.5 + 2 * t).toFixed(2) }));
        }
      });
    }
    for (let l = 1; l < cols; l++) {
      const n = sizes[l];
      const acts = res ? res.activations[l] : null;
      const lo = acts ? Math.min(0, ...acts) : 0, hi = acts ? Math.max(1, ...acts) : 1;
      for (let j = 0; j < shown(n); j++) {
        const a = acts ? (acts[j] - lo) / (hi - lo) : 0;
        const g = Math.round(255 * a);
        const c = el("circle", { cx: xOf(l), cy: yOf(l, j), r: Math.min(9, (H - 40) / (2.4 * shown(n))),
          fill: `rgb(${g},${g},${g})`, "data-layer": l, "data-index": j });
        if (off.has(`${l},${j}`)) c.classList.add("off");
        if (local.selected && local.selected[0] === l && local.selected[1] === j) c.classList.add("selected");
        const title = el("title", {});
        title.textContent = `layer ${l}, neuron ${j}` + (acts ? `: ${acts[j].toFixed(3)}` : "");
        c.append(title);
        c.addEventListener("click", () => { local.selected = [l, j]; act(showNeuron); drawNetwork(res); });
        svg.append(c);
        if (l === cols - 1 && res) {
          svg.append(Object.assign(el("text", { x: xOf(l) + 12, y: yOf(l, j) + 3 }), { textContent: res.classes[j] }));
        }
      }
      if (n > MAX_SHOWN) svg.append(Object.assign(el("text", { x: xOf(l) - 14, y: H - 4 }), { textContent: `+${n - MAX_SHOWN} more` }));
    }
  }

  // ----- poke one neuron ----------------------------------------------------------------------------
  async function showNeuron() {
    const [l, j] = local.selected;
    const input = mg.input || new Array(local.sizes[0]).fill(0);
    const n = await api("/api/neuron", { layer: l, index: j, input });
    $("neuron").hidden = false;
    $("n-title").textContent = `layer ${l}, neuron ${j}` + (l === local.sizes.length - 1 ? " (an output)" : "");
    $("n-numbers").textContent =
      `weighted sum Σ w·a = ${n.weighted_sum.toFixed(4)}, bias b = ${n.bias.toFixed(4)}, ` +
      `z = ${n.z.toFixed(4)}, output a = ${n.output.toFixed(4)}` + (n.switched_off ? " — switched off" : "");
    $("b-off").disabled = l === local.sizes.length - 1 || n.switched_off;
  }
  document.querySelectorAll("#neuron [data-edit]").forEach((b) => {
    b.addEventListener("click", () => act(async () => {
      const [l, j] = local.selected;
      const res = await api("/api/poke", { layer: l, index: j, action: b.dataset.edit, amount: Number(b.dataset.amount || 0) });
      afterEdit(res);
    }));
  });
  $("b-undo").onclick = () => act(async () => afterEdit(await api("/api/undo", {})));
  async function afterEdit(res) {
    mg.editAccuracy = res.test_accuracy;
    $("b-undo").disabled = !res.can_undo;
    $("edit-result").textContent = `test accuracy now ${(100 * res.test_accuracy).toFixed(1)}%`;
    await runForward();
    if (!mg.input) drawNetwork(null);
    if (local.selected) await showNeuron();
    mg.edits += 1;  // counted once everything shown reflects the edit
  }
  $("b-save").onclick = () => act(async () => {
    const res = await api("/api/save", {});
    $("edit-result").textContent = `saved ${res.saved} in ${res.save_dir}`;
    mg.saved = res.saved;
  });

  // ----- look inside ---------------------------------------------------------------------------------
  $("b-confusion").onclick = () => act(async () => {
    const c = await api("/api/confusion");
    const table = document.createElement("table");
    const head = document.createElement("tr");
    head.append(Object.assign(document.createElement("th"), { textContent: "true \\ answer" }),
      ...c.classes.map((name) => Object.assign(document.createElement("th"), { textContent: name })));
    table.append(head);
    const top = Math.max(1, ...c.matrix.flat());
    c.matrix.forEach((row, i) => {
      const tr = document.createElement("tr");
      tr.append(Object.assign(document.createElement("th"), { textContent: c.classes[i] }));
      row.forEach((v, j) => {
        const td = document.createElement("td");
        td.textContent = v;
        const t = Math.sqrt(v / top);
        td.style.background = i === j ? `rgba(47,133,90,${t})` : `rgba(197,48,48,${t})`;
        if (t > 0.6) td.style.color = "#fff";
        const key = `${i},${j}`;
        if (i !== j && c.wrong[key]) {
          td.className = "wrong";
          td.title = `${v} test images of ${c.classes[i]} called ${c.classes[j]}: click to see them`;
          td.onclick = () => act(() => showWrong(c.wrong[key], c.classes[i], c.classes[j]));
        }
        tr.append(td);
      });
      table.append(tr);
    });
    $("confusion").replaceChildren(table,
      Object.assign(document.createElement("p"), { className: "legend", textContent: `test accuracy ${(100 * c.accuracy).toFixed(1)}%` }));
    mg.confusion = c.matrix;
  });
  async function showWrong(ids, truth, answer) {
    const got = await api("/api/images", { ids });
    $("wrong").replaceChildren(...got.images.map((vals, k) => {
      const fig = document.createElement("figure");
      const cv = document.createElement("canvas");
      paintGray(cv, vals, got.image_shape || [1, vals.length]);
      fig.append(cv, Object.assign(document.createElement("figcaption"), { textContent: `#${ids[k]}: ${truth}→${answer}` }));
      return fig;
    }));
  }
  $("b-embed").onclick = () => act(async () => {
    $("b-embed").disabled = true;
    say(`mapping layer ${$("e-layer").value} to 2-D…`);
    try {
      const e = await api("/api/embedding", { layer: Number($("e-layer").value), method: $("e-method").value });
      say("");
      const cv = $("embedding");
      const ctx = cv.getContext("2d");
      ctx.clearRect(0, 0, cv.width, cv.height);
      e.points.forEach(([px, py], i) => {
        ctx.fillStyle = CLASS_COLORS[e.labels[i] % 10];
        ctx.beginPath(); ctx.arc(10 + px * (cv.width - 20), 10 + (1 - py) * (cv.height - 20), 3, 0, 7); ctx.fill();
      });
      const names = local.state ? local.state.classes : null;
      $("embed-legend").replaceChildren(...CLASS_COLORS.map((col, k) => {
        const s = document.createElement("span");
        const sw = Object.assign(document.createElement("span"), { className: "sw" });
        sw.style.background = col;
        s.append(sw, document.createTextNode(names ? names[k] : String(k)));
        return s;
      }));
      mg.embedding = e.points.length;
    } finally { $("b-embed").disabled = false; }
  });

  // ----- explain this step -----------------------------------------------------------------------
  $("b-explain").onclick = () => {
    const frame = $("stepper");
    frame.hidden = false;
    frame.src = `/api/explain?t=${Date.now()}`;
  };

  // ----- start -----------------------------------------------------------------------------------------
  async function afterBuild() {
    const st = local.state;
    local.sizes = st.settings.sizes;
    $("e-layer").replaceChildren(...st.settings.sizes.map((n, l) => Object.assign(document.createElement("option"),
      { value: l, textContent: l === 0 ? `inputs (${n})` : `layer ${l} (${n})` })));
    $("e-layer").value = Math.max(1, st.settings.sizes.length - 2);
    local.selected = null;
    if (mg.input && mg.input.length !== local.sizes[0]) {  // a network of another input size
      clearPad();
      mg.input = null; mg.output = null;
      $("answer").textContent = "";
    }
    $("neuron").hidden = true;
    $("wrong").replaceChildren();
    $("confusion").replaceChildren();
    await refreshPictures();
    if (!mg.input) drawNetwork(null);
  }
  async function start() {
    const info = await api("/api/info");
    const names = { digits: "embedded digits (8×8)", mnist: "MNIST (28×28)", "fashion-mnist": "Fashion-MNIST (28×28)" };
    $("f-dataset").replaceChildren(...info.datasets.map((d) => Object.assign(document.createElement("option"), { value: d, textContent: names[d] || d })));
    const st = await api("/api/state");
    showState(st);
    const s = st.settings;
    $("f-dataset").value = s.dataset; $("f-hidden").value = s.sizes.slice(1, -1).join(",");
    $("f-activation").value = s.activation; $("f-loss").value = s.loss; $("f-seed").value = s.seed;
    await afterBuild();
    listen();
    mg.ready = true;
  }
  act(start);
})();
