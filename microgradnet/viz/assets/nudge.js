/* microgradnet nudge check: at a parameter of the backward pass, move one of its numbers by
   ±ε, look at the cost the forward pass gives (computed by the engine when the page was
   built, in float64), and watch the slope (C(w+ε) − C(w−ε)) / 2ε approach backprop's ∂C/∂w.
   The stepper asks window.microgradnetNudge.panel(data.nudge, node) for the panel's element.
   Every string reaches the page through textContent. */
(function () {
  "use strict";
  var chosen = {}; /* per parameter node: {element: k, eps: j}, kept while the learner steps */

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function num(x, digits) {
    if (x === null || x === undefined) { return "—"; }
    return Number(x).toPrecision(digits);
  }
  function epsText(e) { return e >= 1e-3 ? String(e) : Number(e).toExponential(0); }
  /* How many leading significant digits two numbers share (0 when they differ at once). */
  function agree(a, b) {
    if (a === null || b === null) { return 0; }
    if (a === b) { return 15; }
    var scale = Math.max(Math.abs(a), Math.abs(b));
    if (scale === 0) { return 15; }
    return Math.max(0, Math.min(15, Math.floor(-Math.log10(Math.abs(a - b) / scale))));
  }

  function panel(all, node) {
    var info = all && all.params ? all.params[node] : null;
    if (!info || !info.elements.length) { return null; }
    var state = chosen[node] || (chosen[node] = { element: 0, eps: Math.min(2, all.eps.length - 1) });
    var box = el("div", "nudge");
    box.setAttribute("data-role", "nudge");
    box.setAttribute("data-node", node);

    box.appendChild(el("h4", null, "Check it: nudge " + (info.elements[0].index.length ? "one number of " : "") +
      info.symbol + " and run the forward pass again"));
    var pick = el("div", "nudge-pick");
    var label = el("label", null, "element ");
    var select = el("select");
    select.setAttribute("data-role", "nudge-element");
    info.elements.forEach(function (e, k) {
      var o = el("option", null, e.label + " (" + e.why + ")");
      o.value = String(k);
      select.appendChild(o);
    });
    select.value = String(state.element);
    label.appendChild(select);
    pick.appendChild(label);
    var epsBox = el("span", "nudge-eps");
    epsBox.appendChild(el("span", null, " ε = "));
    var epsButtons = all.eps.map(function (e, j) {
      var b = el("button", null, epsText(e));
      b.type = "button";
      b.setAttribute("data-role", "nudge-eps");
      b.setAttribute("data-eps", String(e));
      b.setAttribute("data-k", String(j));
      b.addEventListener("click", function () { state.eps = j; show(); });
      epsBox.appendChild(b);
      return b;
    });
    pick.appendChild(epsBox);
    box.appendChild(pick);

    var verdict = el("p", "nudge-verdict");
    verdict.setAttribute("data-role", "nudge-verdict");
    box.appendChild(verdict);
    var table = el("table", "nudge-table");
    box.appendChild(table);
    box.appendChild(el("p", "note", "C(w±ε): the cost with this one number moved by ±ε and every other " +
      "number as it is, from the recorded forward pass run again. As ε shrinks the slope settles on " +
      "backprop's ∂C/∂w; far too small an ε would lose it in rounding. Everything here is float64: the " +
      "engine ran this graph's forward and backward again on 64-bit copies when the page was built."));

    function show() {
      var e = info.elements[state.element];
      var row = e.rows[state.eps];
      epsButtons.forEach(function (b, j) { b.classList.toggle("chosen", j === state.eps); });
      verdict.textContent = "";
      var w = e.label;
      [["ε = " + epsText(row.eps) + ":  slope (C(" + w + "+ε) − C(" + w + "−ε)) / 2ε = ", null],
       [num(row.slope, 10), "nudge-slope"],
       ["   backprop ∂C/∂" + w + " = ", null],
       [num(row.backprop, 10), "nudge-backprop"],
       ["   (they agree to " + agree(row.slope, row.backprop) + " digits)", "nudge-agree"]].forEach(function (part) {
        var s = el("span", part[1] ? "v" : null, part[0]);
        if (part[1]) { s.setAttribute("data-role", part[1]); }
        verdict.appendChild(s);
      });
      table.textContent = "";
      var head = el("tr");
      ["ε", "C(w+ε)", "C(w−ε)", "slope", "backprop ∂C/∂w", "digits agreeing"].forEach(function (h) {
        head.appendChild(el("th", null, h));
      });
      table.appendChild(head);
      e.rows.forEach(function (r, j) {
        var tr = el("tr", j === state.eps ? "chosen" : null);
        tr.setAttribute("data-eps", String(r.eps));
        [epsText(r.eps), num(r.cost_plus, 12), num(r.cost_minus, 12), num(r.slope, 10), num(r.backprop, 10),
          String(agree(r.slope, r.backprop))].forEach(function (v, c) {
          var td = el("td", null, v);
          td.setAttribute("data-col", ["eps", "cost_plus", "cost_minus", "slope", "backprop", "agree"][c]);
          tr.appendChild(td);
        });
        tr.addEventListener("click", function () { state.eps = j; show(); });
        table.appendChild(tr);
      });
    }
    select.addEventListener("change", function () { state.element = Number(select.value); show(); });
    show();
    return box;
  }

  window.microgradnetNudge = { panel: panel };
})();
