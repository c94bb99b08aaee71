/* microgradnet: a drawing prepared like the pictures a network was trained on. Shared by the
   draw-a-digit page and the lab. window.microgradnetPrepare(gray, S, spec) takes the ink of an
   S×S canvas (gray[i] in [0, 1], row by row) and spec = {preprocess, side, box}:
   "mnist": the ink's bounding box scaled (area-averaged) into box×box, then placed in side×side
     with its centre of mass at the centre;
   "digits": the box scaled to fill a box×box black-and-white bitmap, then each block's count of
     ink pixels divided by the block's size (the UCI 8×8 digits: 32×32 in 4×4 blocks);
   "fit": the box scaled to fill the side×side picture.
   It returns the input vector (side·side numbers in [0, 1]). */
(function () {
  "use strict";
  function bbox(g, n) {
    var top = n, bottom = -1, left = n, right = -1;
    for (var i = 0; i < n; i++) {
      for (var j = 0; j < n; j++) {
        if (g[i * n + j] > 0.02) {
          top = Math.min(top, i); bottom = Math.max(bottom, i); left = Math.min(left, j); right = Math.max(right, j);
        }
      }
    }
    return bottom < 0 ? null : { top: top, left: left, h: bottom - top + 1, w: right - left + 1 };
  }
  /* weights[k][i]: how much source cell i covers target cell k when n cells shrink to m */
  function coverage(n, m) {
    var out = [], step = n / m;
    for (var k = 0; k < m; k++) {
      var a = k * step, b = (k + 1) * step, row = [];
      for (var i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
        var c = Math.min(b, i + 1) - Math.max(a, i);
        if (c > 0) { row.push([i, c / step]); }
      }
      out.push(row);
    }
    return out;
  }
  /* the box of the ink, averaged down to h2×w2 cells (each the mean of what it covers) */
  function shrink(g, n, box, h2, w2) {
    var cr = coverage(box.h, h2), cc = coverage(box.w, w2), out = new Float64Array(h2 * w2);
    for (var r = 0; r < h2; r++) {
      for (var c = 0; c < w2; c++) {
        var v = 0;
        cr[r].forEach(function (pr) {
          cc[c].forEach(function (pc) { v += pr[1] * pc[1] * g[(box.top + pr[0]) * n + box.left + pc[0]]; });
        });
        out[r * w2 + c] = v;
      }
    }
    return out;
  }
  function fitted(g, S, box, size) {  /* scaled so its longer side is `size`, its shape kept */
    var scale = size / Math.max(box.h, box.w);
    var h2 = Math.max(1, Math.round(box.h * scale)), w2 = Math.max(1, Math.round(box.w * scale));
    return { px: shrink(g, S, box, h2, w2), h: h2, w: w2 };
  }
  window.microgradnetPrepare = function (g, S, spec) {
    var side = spec.side, box = bbox(g, S), x = new Array(side * side).fill(0);
    if (!box) { return x; }
    if (spec.preprocess === "mnist") {
      var f = fitted(g, S, box, spec.box), mass = 0, cy = 0, cx = 0;
      for (var r = 0; r < f.h; r++) {
        for (var c = 0; c < f.w; c++) { var v = f.px[r * f.w + c]; mass += v; cy += v * (r + 0.5); cx += v * (c + 0.5); }
      }
      var top = Math.round(side / 2 - cy / mass), left = Math.round(side / 2 - cx / mass);
      for (var r2 = 0; r2 < f.h; r2++) {
        for (var c2 = 0; c2 < f.w; c2++) {
          var i = top + r2, j = left + c2;
          if (i >= 0 && i < side && j >= 0 && j < side) { x[i * side + j] = Math.min(1, f.px[r2 * f.w + c2]); }
        }
      }
    } else if (spec.preprocess === "digits") {
      var n = spec.box, cell = n / side, b = fitted(g, S, box, n);
      var top2 = Math.floor((n - b.h) / 2), left2 = Math.floor((n - b.w) / 2);
      for (var r3 = 0; r3 < b.h; r3++) {
        for (var c3 = 0; c3 < b.w; c3++) {
          if (b.px[r3 * b.w + c3] >= 0.5) {  /* a black-and-white bitmap, as the UCI digits were */
            var k = Math.floor((top2 + r3) / cell) * side + Math.floor((left2 + c3) / cell);
            x[k] += 1 / (cell * cell);
          }
        }
      }
    } else {
      var f2 = fitted(g, S, box, side), t = Math.floor((side - f2.h) / 2), l = Math.floor((side - f2.w) / 2);
      for (var r4 = 0; r4 < f2.h; r4++) {
        for (var c4 = 0; c4 < f2.w; c4++) { x[(t + r4) * side + l + c4] = Math.min(1, f2.px[r4 * f2.w + c4]); }
      }
    }
    return x;
  };
})();
