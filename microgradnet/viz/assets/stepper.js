/* microgradnet backprop stepper: steps through the forward pass, then the backward pass.
   Every user-controlled string reaches the page through textContent, never as markup. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("mg-data").textContent);
  var graphBox = document.getElementById("mg-graph");
  var svg = graphBox.querySelector("svg");
  var panel = document.getElementById("mg-panel");
  var progress = document.getElementById("mg-progress");
  var nodes = data.nodes;
  var STATES = ["dim", "lit", "current", "produced", "upstream", "receiving", "hasgrad", "active", "back"];

  var positions = [{ kind: "start" }];
  data.forward.forEach(function (s, i) { positions.push({ kind: "forward", i: i }); });
  data.backward.forEach(function (s, i) { positions.push({ kind: "backward", i: i }); });
  positions.push({ kind: "end" });
  var pos = 0;

  document.getElementById("mg-title").textContent = data.title;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) { continue; }
      parent.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return parent;
  }
  function graphEl(id) { return svg ? document.getElementById(id) : null; }
  function mark(id, cls) { var g = graphEl(id); if (g) { g.classList.add(cls); } }
  function sym(id) { return nodes[id].d; }

  /* A number or an array summary; `role` names the spans the tests read. */
  function view(st, role) {
    if (st.scalar) {
      var n = el("span", "num", st.fmt.value);
      n.setAttribute("data-role", role);
      return n;
    }
    var box = el("span", "arr");
    box.setAttribute("data-role", role);
    add(box, el("span", "shape", st.shape_text));
    [["mean", "mean"], ["min", "min"], ["max", "max"]].forEach(function (kv) {
      add(box, el("span", "k", kv[0] + " "));
      var v = el("span", "v", st.fmt[kv[1]]);
      v.setAttribute("data-role", role + "-" + kv[1]);
      add(box, v);
    });
    if (st.spark) { add(box, el("span", "spark", st.spark)); }
    add(box, el("span", "vals", "[" + st.fmt.values.join(", ") + (st.more ? ", …]" : "]")));
    return box;
  }

  function card(cls, title) {
    var c = el("div", "card " + cls);
    add(c, el("h3", null, title));
    return c;
  }

  function clearGraph() {
    if (!svg) { return; }
    var all = svg.querySelectorAll("g.node, g.edge");
    for (var i = 0; i < all.length; i++) {
      for (var k = 0; k < STATES.length; k++) { all[i].classList.remove(STATES[k]); }
    }
  }

  function dimAllBut(ids) {
    if (!svg) { return; }
    var keep = {};
    ids.forEach(function (id) { keep[id] = true; });
    var all = svg.querySelectorAll("g.node, g.edge");
    for (var i = 0; i < all.length; i++) {
      if (!keep[all[i].id]) { all[i].classList.add("dim"); }
    }
  }

  function scrollTo(id) {
    var g = graphEl(id);
    if (g && graphBox.classList.contains("zoomed") && g.scrollIntoView) {
      g.scrollIntoView({ block: "nearest", inline: "center" });
    }
  }

  function header(kind, text, title) {
    panel.textContent = "";
    add(panel, el("div", "phase " + kind, text));
    var h = el("h2", "eq", title);
    h.id = "mg-step-title";
    add(panel, h);
  }

  function showStart() {
    dimAllBut(data.leaves);
    data.leaves.forEach(function (id) { mark(id, "lit"); });
    header("start", "Start", "The inputs and the parameters");
    add(panel, el("p", null, "Lit up: the data the network is given and the parameters (weights and biases) it " +
      "learns. Press next ▶ (or →) to run the forward pass one op at a time, then the backward pass."));
    var list = el("div");
    data.leaves.forEach(function (id) {
      var n = nodes[id];
      var c = card(n.kind === "parameter" ? "param" : "input", n.label + " (" + n.kind + ")");
      add(c, add(el("div", "row"), el("span", "eq", n.symbol + " ="), view(n.value, "value")));
      c.setAttribute("data-node", id);
      add(list, c);
    });
    add(panel, list);
  }

  function showForward(i) {
    var s = data.forward[i];
    var lit = data.leaves.slice();
    for (var j = 0; j <= i; j++) {
      var f = data.forward[j];
      lit.push(f.op, f.out);
      lit = lit.concat(f.edges);
    }
    dimAllBut(lit);
    s.inputs.forEach(function (id) { mark(id, "lit"); });
    mark(s.op, "current");
    mark(s.out, "produced");
    s.edges.forEach(function (e) { mark(e, "active"); });
    header("forward", "Forward step " + (i + 1) + " of " + data.forward.length + " · " + s.name, s.eq);
    var ins = card("input", "inputs");
    s.inputs.forEach(function (id) {
      var r = el("div", "row");
      r.setAttribute("data-node", id);
      add(r, el("span", "eq", nodes[id].symbol + " ="), view(nodes[id].value, "input-value"));
      add(ins, r);
    });
    add(panel, ins);
    var out = card("upstream", "output (" + s.formula + ")");
    var r = el("div", "row");
    add(r, el("span", "eq", nodes[s.out].symbol + " ="), view(nodes[s.out].value, "output-value"));
    add(out, r);
    add(panel, out);
    if (i === data.forward.length - 1) {
      add(panel, el("p", "note", "That is the cost. Next: the backward pass, starting from ∂" + data.cost_symbol +
        "/∂" + data.cost_symbol + " = 1 and walking back one op at a time."));
    }
    scrollTo(s.op);
  }

  function showBackward(i) {
    var s = data.backward[i];
    s.edges.forEach(function (e) { mark(e, "back"); });
    for (var j = 0; j <= i; j++) {
      var b = data.backward[j];
      mark(b.out, "hasgrad");
      b.inputs.forEach(function (inp) { mark(inp.node, "hasgrad"); });
    }
    mark(s.op, "current");
    mark(s.out, "upstream");
    s.inputs.forEach(function (inp) { mark(inp.node, "receiving"); });
    var C = data.cost_symbol;
    header("backward", "Backward step " + (i + 1) + " of " + data.backward.length + " · " + s.describe, s.eq);
    panel.setAttribute("data-op", s.op);

    var up = card("upstream", "upstream gradient: how the cost changes with this op's output");
    var r = el("div", "row");
    add(r, el("span", "eq", "∂" + C + "/∂" + sym(s.out) + " ="), view(s.upstream, "upstream"));
    add(up, r);
    if (i === 0) { add(up, el("p", "note", "The walk starts at the cost itself: ∂C/∂C = 1.")); }
    add(panel, up);

    s.inputs.forEach(function (inp) {
      var c = card(inp.parameter ? "param" : "input",
        "gradient sent to " + nodes[inp.node].label + (inp.parameter ? " (a parameter)" : ""));
      c.setAttribute("data-node", inp.node);
      c.setAttribute("data-role", "input");
      var local = "∂" + sym(s.out) + "/∂" + sym(inp.node);
      var row1 = el("div", "row");
      add(row1, el("span", "eq", "local " + local + " = " + inp.formula));
      if (inp.local) {
        add(row1, el("span", "equals", "="), view(inp.local, "local"));
      }
      add(c, row1);
      if (!inp.local) {
        add(c, el("p", "note", s.elementwise ? "" :
          "Not one number per value: this product is a vector-Jacobian product (a matrix product with the upstream gradient)."));
      }
      var row2 = el("div", "row");
      add(row2, el("span", "eq", "∂" + C + "/∂" + sym(inp.node) + " = ∂" + C + "/∂" + sym(s.out) + " × " + local));
      add(c, row2);
      var row3 = el("div", "row");
      if (data.scalar && inp.local) {
        add(row3, view(s.upstream, "upstream-copy"), el("span", "times", "×"), view(inp.local, "local-copy"),
          el("span", "equals", "="));
      } else {
        add(row3, el("span", "equals", "="));
      }
      var contrib = view(inp.contribution, "contribution");
      if (contrib.classList) { contrib.classList.add("big"); }
      add(row3, contrib);
      add(c, row3);
      if (inp.summed) {
        add(c, el("p", "note", "Summed over the " + (s.name === "add_bias" ? "batch" : "broadcast copies") +
          ": the same value was used for every example, so its gradients add up."));
      }
      if (inp.parameter) {
        add(c, el("p", "note", "This is ∂C/∂" + nodes[inp.node].symbol + ": gradient descent nudges " +
          nodes[inp.node].symbol + " by −learning rate × this."));
        var check = window.microgradnetNudge ? window.microgradnetNudge.panel(data.nudge, inp.node) : null;
        if (check) { add(c, check); }
      }
      add(panel, c);
    });
    scrollTo(s.op);
  }

  function showEnd() {
    data.final.forEach(function (f) { mark(f.node, "hasgrad"); });
    header("end", "Done", "∂" + data.cost_symbol + "/∂w for every parameter");
    add(panel, el("p", null, "Each parameter's gradient is the sum of everything the backward pass sent it. " +
      "One step of gradient descent moves every parameter a little against its gradient."));
    var t = el("table", "final");
    var head = el("tr");
    add(head, el("th", null, "parameter"), el("th", null, "∂C/∂parameter"));
    add(t, head);
    data.final.forEach(function (f) {
      var tr = el("tr");
      tr.setAttribute("data-node", f.node);
      var v = el("td");
      add(v, view(f.grad, "final"));
      add(tr, el("td", "eq", f.label), v);
      add(t, tr);
    });
    add(panel, t);
  }

  function render() {
    clearGraph();
    panel.removeAttribute("data-op");
    var p = positions[pos];
    document.body.setAttribute("data-phase", p.kind);
    document.body.setAttribute("data-step", String(pos));
    if (p.kind === "start") { showStart(); }
    else if (p.kind === "forward") { showForward(p.i); }
    else if (p.kind === "backward") { showBackward(p.i); }
    else { showEnd(); }
    progress.textContent = "step " + pos + " of " + (positions.length - 1);
    document.getElementById("mg-prev").disabled = pos === 0;
    document.getElementById("mg-home").disabled = pos === 0;
    document.getElementById("mg-next").disabled = pos === positions.length - 1;
    document.getElementById("mg-end").disabled = pos === positions.length - 1;
  }

  function go(to) {
    var next = Math.max(0, Math.min(positions.length - 1, to));
    if (next !== pos) { pos = next; render(); }
  }

  document.getElementById("mg-next").addEventListener("click", function () { go(pos + 1); });
  document.getElementById("mg-prev").addEventListener("click", function () { go(pos - 1); });
  document.getElementById("mg-home").addEventListener("click", function () { go(0); });
  document.getElementById("mg-end").addEventListener("click", function () { go(positions.length - 1); });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
    var k = ev.key;
    if (k === "ArrowRight") { go(pos + 1); }
    else if (k === "ArrowLeft") { go(pos - 1); }
    else if (k === "Home") { go(0); }
    else if (k === "End") { go(positions.length - 1); }
    else { return; }
    ev.preventDefault();
  });

  /* Size: fit the graph into its box when its smallest text stays at least 8 px tall, else
     full size with scrolling (the current op is scrolled into view). */
  var natW = parseFloat(graphBox.getAttribute("data-width")) || 800;
  var natH = parseFloat(graphBox.getAttribute("data-height")) || 400;
  var minFont = parseFloat(graphBox.getAttribute("data-min-font")) || 13.3;
  var readable = Math.min(1, 8 / minFont);  /* the smallest scale that keeps text 8 px tall */
  function layout(zoomed) {
    if (!svg) { return; }
    graphBox.classList.toggle("zoomed", zoomed);
    /* the panel goes below the graph when beside it the graph could not be read */
    var besidePanel = document.querySelector("main").clientWidth - 44 - 14 - 430 - 16;
    document.querySelector("main").classList.toggle("wide", besidePanel < natW * readable);
    if (zoomed) {
      svg.style.width = natW + "px";
      svg.style.height = natH + "px";
      svg.style.maxHeight = "none";
    } else {
      svg.style.width = "100%";
      svg.style.height = "auto";
      svg.style.maxWidth = natW + "px";
      svg.style.maxHeight = Math.max(0.68 * window.innerHeight, natH * readable) + "px";
    }
    document.getElementById("mg-zoom").textContent = zoomed ? "fit to window" : "full size";
  }
  var zoomed = false, chosen = false;  /* chosen: the reader pressed the zoom button */
  function autoLayout() {
    if (!chosen) {
      zoomed = false;
      layout(false);
      /* inside a notebook's frame the first layout may not have its width yet: load and
         resize come back here */
      zoomed = !((graphBox.clientWidth - 16) / natW >= readable);
    }
    layout(zoomed);
  }
  autoLayout();
  window.addEventListener("load", autoLayout);
  window.addEventListener("resize", autoLayout);
  document.getElementById("mg-zoom").addEventListener("click", function () {
    zoomed = !zoomed;
    chosen = true;
    layout(zoomed);
    render();
  });
  render();
})();
