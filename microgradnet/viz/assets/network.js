/* microgradnet: the network lit by one input, drawn as show_network draws it. Columns of
   neurons whose grey level is their activation (dark 0, bright 1); edges red for a positive
   weight, blue for a negative one, bolder when stronger; a picture input drawn as the picture
   with a fan to the first layer; the outputs labelled, the answer in gold.
   window.microgradnetNetwork.draw(svg, layout, weights, acts) -> the index of the answer. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var POS = [192, 57, 43], NEG = [46, 111, 183], GOLD = "#f5b700", FG = "#e8e8e8";

  function s(tag, attrs, parent, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { e.textContent = String(text); }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function clamp01(a) { return Math.max(0, Math.min(1, a)); }
  function grey(a) { var v = Math.round(255 * clamp01(a)); return "rgb(" + v + "," + v + "," + v + ")"; }
  function argmax(a) { var k = 0; for (var i = 1; i < a.length; i++) { if (a[i] > a[k]) { k = i; } } return k; }

  function draw(svg, layout, weights, acts) {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var L = layout.sizes.length - 1;
    var img = layout.image;
    var H = 430, top = 28, bottom = 56, imgSize = 150;
    var colX = function (ci) { return img ? (ci === 0 ? 12 + imgSize : imgSize + 90 + (ci - 1) * 170) : 40 + ci * 170; };
    var W = colX(L) + 120;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    s("rect", { x: 0, y: 0, width: W, height: H, fill: "#15171c" }, svg);
    var slots = 2;
    layout.visible.forEach(function (v, ci) {
      if (ci === 0 && img) { return; }
      slots = Math.max(slots, v.length + (layout.gap[ci] !== null ? 1 : 0));
    });
    var spacing = Math.min(34, (H - top - bottom) / (slots - 1));
    var r = Math.min(spacing * 0.38, 12);
    function ys(ci) {
      var v = layout.visible[ci], gap = layout.gap[ci];
      var k = v.length + (gap !== null ? 1 : 0);
      var first = (top + H - bottom) / 2 - (k - 1) / 2 * spacing;
      var out = [], gapY = null, pos = 0;
      for (var i = 0; i < v.length; i++) {
        if (gap !== null && i === gap) { gapY = first + pos * spacing; pos++; }
        out.push(first + pos * spacing);
        pos++;
      }
      return { y: out, gap: gapY };
    }
    var cols = layout.visible.map(function (v, ci) { return ys(ci); });
    var mid = (top + H - bottom) / 2;

    /* edges */
    var edges = s("g", { "class": "edges" }, svg);
    for (var li = 0; li < L; li++) {
      var outY = cols[li + 1].y;
      if (li === 0 && img) {
        outY.forEach(function (yo, c) {
          var ys0 = mid - imgSize * 0.4 + (imgSize * 0.8) * (c / Math.max(outY.length - 1, 1));
          s("line", { x1: colX(0), y1: ys0, x2: colX(1), y2: yo, stroke: FG, "stroke-opacity": 0.18, "stroke-width": 0.6 }, edges);
        });
        continue;
      }
      var w = weights[li], big = 0, list = [];
      w.forEach(function (row) { row.forEach(function (v) { big = Math.max(big, Math.abs(v)); }); });
      big = big || 1;
      w.forEach(function (row, a) {
        row.forEach(function (v, c) { list.push([Math.abs(v) / big, v, a, c]); });
      });
      list.sort(function (p, q) { return p[0] - q[0]; });
      list.forEach(function (e) {
        var col = e[1] > 0 ? POS : NEG;
        s("line", {
          x1: colX(li), y1: cols[li].y[e[2]], x2: colX(li + 1), y2: outY[e[3]],
          stroke: "rgb(" + col.join(",") + ")", "stroke-opacity": (0.05 + 0.85 * Math.pow(e[0], 1.5)).toFixed(3),
          "stroke-width": (0.3 + 2.2 * e[0]).toFixed(2)
        }, edges);
      });
    }

    /* the input picture */
    if (img) {
      var rows = img[0], cs = img[1], px = imgSize / Math.max(rows, cs);
      var g = s("g", { "class": "input-image" }, svg);
      var x0 = colX(0) - cs * px, y0 = mid - rows * px / 2;
      s("rect", { x: x0 - 1, y: y0 - 1, width: cs * px + 2, height: rows * px + 2, fill: "none", stroke: "#9aa0a6" }, g);
      for (var i = 0; i < rows; i++) {
        for (var j = 0; j < cs; j++) {
          var a = acts[0][i * cs + j];
          if (a > 0.004) { s("rect", { x: x0 + j * px, y: y0 + i * px, width: px + 0.3, height: px + 0.3, fill: grey(a) }, g); }
        }
      }
    }

    /* neurons */
    var answer = argmax(acts[L]);
    layout.visible.forEach(function (v, ci) {
      if (ci === 0 && img) { return; }
      var g = s("g", { "class": "layer", "data-layer": ci }, svg);
      v.forEach(function (n, k) {
        var a = acts[ci][n], y = cols[ci].y[k];
        var c = s("circle", { cx: colX(ci), cy: y, r: r, fill: grey(a), stroke: "#9aa0a6", "stroke-width": 0.8 }, g);
        c.setAttribute("data-neuron", String(n));
        c.setAttribute("data-activation", String(a));
        if (ci === L) {
          var hit = n === answer;
          if (hit) { s("circle", { cx: colX(ci), cy: y, r: r + 4, fill: "none", stroke: GOLD, "stroke-width": 2 }, g); }
          var t = s("text", {
            x: colX(ci) + r + 8, y: y + 4, fill: hit ? GOLD : "#b0b4b8", "font-size": hit ? 13 : 11.5,
            "font-weight": hit ? 700 : 400, "data-output": n
          }, g, layout.classes[n] + "  " + a.toFixed(2));
          t.setAttribute("class", hit ? "answer" : "output");
        }
      });
      if (cols[ci].gap !== null) { s("text", { x: colX(ci), y: cols[ci].gap + 6, fill: FG, "text-anchor": "middle", "font-size": 18 }, g, "⋮"); }
    });

    /* column labels */
    layout.sizes.forEach(function (n, ci) {
      var role = ci === 0 ? "input" : (ci === L ? "output" : "hidden layer " + ci);
      var unit = ci === 0 && img ? "pixels" : "neurons";
      var x = ci === 0 && img ? colX(0) - imgSize / 2 : colX(ci);
      s("text", { x: x, y: H - bottom + 26, fill: FG, "text-anchor": "middle", "font-size": 12 }, svg, role);
      s("text", { x: x, y: H - bottom + 42, fill: "#b0b4b8", "text-anchor": "middle", "font-size": 11 }, svg, n + " " + unit);
    });
    return answer;
  }

  window.microgradnetNetwork = { draw: draw, argmax: argmax };
})();
