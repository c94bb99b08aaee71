/* microgradnet draw-a-digit page: pointer strokes on a canvas, prepared like the training
   pictures, then the model's forward pass (matmul, add_bias, activation per layer) in the
   browser, and the network lit by it. window.microgradnet.input / .output hold the current
   input vector and output activations (plain arrays); .run(x) runs the network on any input. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("mg-data").textContent);
  var canvas = document.getElementById("dp-canvas");
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  var S = canvas.width, side = data.side;

  document.getElementById("dp-title").textContent = data.title;
  document.getElementById("dp-prep").textContent = {
    mnist: "Prepared like MNIST: the drawing's bounding box scaled into 20×20 pixels (anti-aliased), " +
      "then placed in 28×28 with its centre of mass at the centre.",
    digits: "Prepared like the embedded 8×8 digits: the drawing scaled to fill a 32×32 black-and-white " +
      "bitmap, then each 4×4 block's count of ink pixels (0 to 16) divided by 16.",
    fit: "The drawing scaled to fill the " + side + "×" + side + " picture."
  }[data.preprocess];

  function floats(b64) {
    var raw = atob(b64), buf = new ArrayBuffer(raw.length), u8 = new Uint8Array(buf);
    for (var i = 0; i < raw.length; i++) { u8[i] = raw.charCodeAt(i); }
    return new Float32Array(buf);
  }
  var layers = data.layers.map(function (l) {
    return { n: l.inputs, m: l.outputs, W: floats(l.weight), b: floats(l.bias), acts: l.activations };
  });

  /* ---- the forward pass ---- */
  var ACT = {
    sigmoid: function (z) { return z.map(function (v) { return 1 / (1 + Math.exp(-v)); }); },
    tanh: function (z) { return z.map(Math.tanh); },
    relu: function (z) { return z.map(function (v) { return v > 0 ? v : 0; }); },
    softmax: function (z) {
      var top = Math.max.apply(null, z), e = z.map(function (v) { return Math.exp(v - top); });
      var sum = e.reduce(function (a, b) { return a + b; }, 0);
      return e.map(function (v) { return v / sum; });
    }
  };
  function forward(x) {
    var acts = [x.slice()], a = x;
    layers.forEach(function (l) {
      var z = new Array(l.m);
      for (var j = 0; j < l.m; j++) { z[j] = l.b[j]; }
      for (var k = 0; k < l.n; k++) {  /* z = a @ W + b, W stored (in, out) row-major */
        var ak = a[k];
        if (ak === 0) { continue; }
        var row = k * l.m;
        for (var j2 = 0; j2 < l.m; j2++) { z[j2] += ak * l.W[row + j2]; }
      }
      l.acts.forEach(function (name) { z = ACT[name](z); });
      a = z;
      acts.push(a);
    });
    return acts;
  }

  /* ---- preparing the drawing (prepare.js, shared with the lab) ---- */
  function prepare() {
    var im = ctx.getImageData(0, 0, S, S).data, g = new Float64Array(S * S);
    for (var p = 0; p < S * S; p++) { g[p] = im[4 * p] / 255; }
    return window.microgradnetPrepare(g, S, { preprocess: data.preprocess, side: side, box: data.box });
  }

  /* ---- showing it ---- */
  var preview = document.getElementById("dp-input");
  preview.width = side;
  preview.height = side;
  var outputs = document.getElementById("dp-outputs");
  var bars = data.classes.map(function (name, j) {
    var row = document.createElement("div");
    row.className = "out";
    row.setAttribute("data-output", String(j));
    var label = document.createElement("span");
    label.className = "name";
    label.textContent = name;
    var track = document.createElement("span");
    track.className = "track";
    var fill = document.createElement("span");
    fill.className = "fill";
    track.appendChild(fill);
    var value = document.createElement("span");
    value.className = "value";
    row.appendChild(label);
    row.appendChild(track);
    row.appendChild(value);
    outputs.appendChild(row);
    return { row: row, fill: fill, value: value };
  });

  function show(x) {
    var acts = forward(x), out = acts[acts.length - 1];
    var pctx = preview.getContext("2d"), im = pctx.createImageData(side, side);
    for (var p = 0; p < side * side; p++) {
      var v = Math.round(255 * Math.max(0, Math.min(1, x[p])));
      im.data[4 * p] = v; im.data[4 * p + 1] = v; im.data[4 * p + 2] = v; im.data[4 * p + 3] = 255;
    }
    pctx.putImageData(im, 0, 0);
    var answer = window.microgradnetNetwork.draw(document.getElementById("dp-net"), data.layout, data.edges, acts);
    var top = Math.max(1, Math.max.apply(null, out));  /* activations in [0, 1] fill the bar as they are */
    bars.forEach(function (b, j) {
      b.fill.style.width = (100 * Math.max(0, out[j]) / top).toFixed(1) + "%";
      b.value.textContent = out[j].toFixed(3);
      b.row.classList.toggle("answer", j === answer);
    });
    var drawn = x.some(function (v) { return v > 0; });
    document.getElementById("dp-says").textContent = drawn ?
      "The network says “" + data.classes[answer] + "” (activation " + out[answer].toFixed(2) + ")" :
      "Draw a digit: the network answers even for an empty picture";
    window.microgradnet.input = x.slice();
    window.microgradnet.output = out.slice();
    window.microgradnet.answer = answer;
  }

  window.microgradnet = { input: [], output: [], answer: null, run: function (x) { var a = forward(x); return a[a.length - 1]; } };

  /* ---- drawing with pointer events (mouse, pen, finger) ---- */
  function clear() { ctx.fillStyle = "black"; ctx.fillRect(0, 0, S, S); show(prepare()); }
  var last = null, pending = false;
  function at(ev) {
    var r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * S / r.width, (ev.clientY - r.top) * S / r.height];
  }
  function stroke(to) {
    ctx.strokeStyle = "white";
    ctx.lineWidth = S / 14;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    last = to;
    if (!pending) {  /* at most one forward pass per frame while drawing */
      pending = true;
      window.requestAnimationFrame(function () { pending = false; show(prepare()); });
    }
  }
  canvas.addEventListener("pointerdown", function (ev) {
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    last = at(ev);
    stroke(last);
  });
  canvas.addEventListener("pointermove", function (ev) { if (last) { ev.preventDefault(); stroke(at(ev)); } });
  function end(ev) { if (last) { last = null; show(prepare()); } if (ev) { ev.preventDefault(); } }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  document.getElementById("dp-clear").addEventListener("click", clear);
  clear();
})();
