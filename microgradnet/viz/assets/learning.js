/* microgradnet learning page: a slider and a play button over the snapshots of a training run.
   Every number was computed in Python by the snapshot models; this script only draws them.
   Strings reach the page through textContent. window.microgradnet holds what is shown. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("mg-data").textContent);
  var frames = data.frames;
  var slider = document.getElementById("lp-slider");
  var play = document.getElementById("lp-play");
  var NS = "http://www.w3.org/2000/svg";
  var chosenImage = 0;
  var timer = null;

  document.getElementById("lp-title").textContent = data.title;
  slider.max = String(frames.length - 1);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function s(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { e.textContent = String(text); }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function bytes(b64, signed) {
    var raw = atob(b64), out = signed ? new Int8Array(raw.length) : new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function pct(a) { return (100 * a).toFixed(1) + "%"; }

  /* red = positive, blue = negative, white at 0 (the diverging map of the matplotlib figures) */
  var STOPS = [[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [247, 247, 247],
    [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];
  function diverging(t) { /* t in [-1, 1] */
    var u = (Math.max(-1, Math.min(1, t)) + 1) / 2 * (STOPS.length - 1);
    var k = Math.min(STOPS.length - 2, Math.floor(u)), f = u - k;
    return [0, 1, 2].map(function (c) { return Math.round(STOPS[k][c] * (1 - f) + STOPS[k + 1][c] * f); });
  }

  function paint(canvas, rows, cols, colorAt) {
    canvas.width = cols;
    canvas.height = rows;
    var ctx = canvas.getContext("2d");
    var im = ctx.createImageData(cols, rows);
    for (var p = 0; p < rows * cols; p++) {
      var c = colorAt(p);
      im.data[4 * p] = c[0]; im.data[4 * p + 1] = c[1]; im.data[4 * p + 2] = c[2]; im.data[4 * p + 3] = 255;
    }
    ctx.putImageData(im, 0, 0);
  }

  var images = data.images ? bytes(data.images, false) : null;
  var npix = data.image ? data.image[0] * data.image[1] : 0;
  function picture(canvas, index) {
    paint(canvas, data.image[0], data.image[1], function (p) { var v = images[index * npix + p]; return [v, v, v]; });
  }
  function inputOf(k) {
    if (images) {
      var out = [];
      for (var p = 0; p < npix; p++) { out.push(images[data.fixed[k] * npix + p] / 255); }
      return out;
    }
    return data.fixed_pixels[k];
  }

  /* the choice of test image that lights the network */
  var pick = document.getElementById("lp-pick");
  var pickButtons = data.fixed.map(function (idx, k) {
    var b = el("button", null);
    b.type = "button";
    b.setAttribute("data-image", String(k));
    if (data.image) {
      var c = el("canvas", "thumb");
      picture(c, idx);
      b.appendChild(c);
    }
    b.appendChild(el("span", null, "test image " + idx + " (a “" + data.classes[data.fixed_labels[k]] + "”)"));
    b.addEventListener("click", function () { chosenImage = k; render(); });
    pick.appendChild(b);
    return b;
  });

  /* the weights' pictures: one canvas per neuron, made once */
  var weightGrid = document.getElementById("lp-weight-grid");
  var weightCanvases = [];
  if (data.image && frames[0].weights) {
    for (var j = 0; j < data.neurons; j++) {
      var fig = el("figure", "neuron");
      var c = el("canvas", "weights");
      c.setAttribute("data-neuron", String(j));
      fig.appendChild(c);
      fig.appendChild(el("figcaption", null, "neuron " + j));
      weightGrid.appendChild(fig);
      weightCanvases.push(c);
    }
  } else {
    weightGrid.appendChild(el("p", "note", "The inputs are not a picture, so the weights are not drawn as one."));
  }

  /* the cost curve: drawn once, the marker moves */
  var curve = document.getElementById("lp-cost-svg");
  var CW = 560, CH = 250, left = 46, right = 46, topM = 12, bottomM = 34;
  curve.setAttribute("viewBox", "0 0 " + CW + " " + CH);
  var maxCost = 0;
  data.curve.forEach(function (p) { maxCost = Math.max(maxCost, p[1]); });
  data.epoch_cost.forEach(function (p) { maxCost = Math.max(maxCost, p[1]); });
  maxCost = maxCost || 1;
  var total = Math.max(data.steps, 1);
  function X(step) { return left + (CW - left - right) * step / total; }
  function Y(cost) { return topM + (CH - topM - bottomM) * (1 - cost / maxCost); }
  function YA(acc) { return topM + (CH - topM - bottomM) * (1 - acc); }
  s("line", { x1: left, y1: Y(0), x2: CW - right, y2: Y(0), stroke: "#9ca3af" }, curve);
  s("line", { x1: left, y1: topM, x2: left, y2: Y(0), stroke: "#9ca3af" }, curve);
  s("text", { x: left - 6, y: Y(maxCost) + 4, "text-anchor": "end", "font-size": 11 }, curve, maxCost.toPrecision(2));
  s("text", { x: left - 6, y: Y(0) + 4, "text-anchor": "end", "font-size": 11 }, curve, "0");
  s("text", { x: CW - right + 6, y: YA(1) + 4, "font-size": 11, fill: "#c0392b" }, curve, "100%");
  s("text", { x: CW - right + 6, y: YA(0) + 4, "font-size": 11, fill: "#c0392b" }, curve, "0%");
  var epochs = data.per_epoch ? Math.round(total / data.per_epoch) : 0;
  for (var e = 0; e <= epochs; e += Math.max(1, Math.ceil(epochs / 10))) {
    s("text", { x: X(e * data.per_epoch), y: CH - bottomM + 16, "text-anchor": "middle", "font-size": 11 }, curve, String(e));
  }
  s("text", { x: (left + CW - right) / 2, y: CH - 4, "text-anchor": "middle", "font-size": 11, fill: "#6b7280" }, curve, "epoch");
  s("polyline", {
    points: data.curve.map(function (p) { return X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1); }).join(" "),
    fill: "none", stroke: "#1f77b4", "stroke-opacity": 0.3, "stroke-width": 1
  }, curve);
  s("polyline", {
    points: data.epoch_cost.map(function (p) { return X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1); }).join(" "),
    fill: "none", stroke: "#1f77b4", "stroke-width": 2.2
  }, curve);
  frames.forEach(function (f) { s("circle", { cx: X(f.step), cy: YA(f.accuracy), r: 2.6, fill: "#c0392b" }, curve); });
  var marker = s("line", { id: "lp-marker", x1: 0, y1: topM, x2: 0, y2: Y(0), stroke: "#f59e0b", "stroke-width": 2.5 }, curve);
  var markerDot = s("circle", { r: 5, fill: "#f59e0b", stroke: "white", "stroke-width": 1.5 }, curve);

  var net = document.getElementById("lp-net");
  var wrongGrid = document.getElementById("lp-wrong-grid");

  function render() {
    var k = Number(slider.value);
    var f = frames[k];
    document.getElementById("lp-time").textContent = "snapshot " + (k + 1) + " of " + frames.length +
      ": after " + f.step.toLocaleString("en-US") + " of " + data.steps.toLocaleString("en-US") +
      " steps (epoch " + f.epoch.toFixed(2) + ")";
    var acc = document.getElementById("lp-accuracy");
    acc.textContent = "test accuracy " + pct(f.accuracy);
    acc.setAttribute("data-accuracy", String(f.accuracy));

    marker.setAttribute("x1", X(f.step).toFixed(2));
    marker.setAttribute("x2", X(f.step).toFixed(2));
    var near = null;
    data.curve.forEach(function (p) { if (near === null || Math.abs(p[0] - f.step) < Math.abs(near[0] - f.step)) { near = p; } });
    markerDot.setAttribute("cx", X(f.step).toFixed(2));
    markerDot.setAttribute("cy", (near ? Y(near[1]) : Y(0)).toFixed(2));

    if (weightCanvases.length) {
      var w = bytes(f.weights, true);
      weightCanvases.forEach(function (c, j) {
        paint(c, data.image[0], data.image[1], function (p) { return diverging(w[j * npix + p] / 127); });
      });
      document.getElementById("lp-scale").textContent = "from −" + f.scale.toPrecision(3) + " to +" + f.scale.toPrecision(3);
    }

    pickButtons.forEach(function (b, j) { b.classList.toggle("chosen", j === chosenImage); });
    var acts = [inputOf(chosenImage)];
    var full = f.lit[chosenImage];
    full.forEach(function (a) { acts.push(a); });
    var answer = window.microgradnetNetwork.draw(net, data.layout, f.edges, acts);
    var out = full[full.length - 1];
    var label = data.classes[data.fixed_labels[chosenImage]];
    document.getElementById("lp-says").textContent = "The network says “" + data.classes[answer] +
      "” (activation " + out[answer].toFixed(2) + ") for this “" + label + "”" +
      (data.classes[answer] === label ? "." : ": wrong.");

    document.getElementById("lp-wrong-count").textContent = f.wrong_total.toLocaleString("en-US") + " of the " +
      data.test_size.toLocaleString("en-US") + " test images are still wrong; here are those among the first " +
      data.pool + ", each with what the network says:";
    wrongGrid.textContent = "";
    f.wrong.forEach(function (idx, j) {
      var fig = el("figure", "wrong");
      fig.setAttribute("data-index", String(idx));
      if (images) {
        var c = el("canvas", "digit");
        picture(c, idx);
        fig.appendChild(c);
      }
      fig.appendChild(el("figcaption", null, "says " + data.classes[f.said[j]]));
      wrongGrid.appendChild(fig);
    });
    if (!f.wrong.length) { wrongGrid.appendChild(el("p", "note", "None: every one of them is right.")); }

    window.microgradnet = {
      snapshot: k, step: f.step, accuracy: f.accuracy, wrong: f.wrong.slice(), answer: answer,
      image: data.fixed[chosenImage], outputs: out.slice()
    };
  }

  function stop() { if (timer !== null) { clearInterval(timer); timer = null; } play.textContent = "▶ play"; }
  play.addEventListener("click", function () {
    if (timer !== null) { stop(); return; }
    if (Number(slider.value) >= frames.length - 1) { slider.value = "0"; render(); }
    play.textContent = "❚❚ pause";
    timer = setInterval(function () {
      var k = Number(slider.value);
      if (k >= frames.length - 1) { stop(); return; }
      slider.value = String(k + 1);
      render();
      if (k + 1 >= frames.length - 1) { stop(); }
    }, 450);
  });
  slider.addEventListener("input", function () { render(); });
  slider.addEventListener("change", function () { render(); });
  render();
})();
