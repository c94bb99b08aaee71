"""The stepper's nudge-check panel in headless Chromium: at every parameter of the backward
pass the learner picks an element and an ε, and the numbers shown are the engine's, checked
here against an independent float64 re-run of the network."""

import numpy as np
import pytest
from pages import assert_quiet, browser, open_page  # noqa: F401 - browser is a fixture

import microgradnet as mg
from microgradnet.viz.stepper import backprop_page, page_data

pytestmark = pytest.mark.browser

READ = """() => {
  const p = document.querySelector('#mg-panel [data-role="nudge"]');
  if (!p) return null;
  const t = (r) => p.querySelector('[data-role="' + r + '"]').textContent;
  return {node: p.dataset.node, slope: t('nudge-slope'), backprop: t('nudge-backprop'),
          element: p.querySelector('select').selectedOptions[0].textContent,
          chosen: p.querySelector('tr.chosen').dataset.eps,
          rows: p.querySelectorAll('table.nudge-table tr[data-eps]').length};
}"""


def build():
    model = mg.nn.MLP([12, 5, 4], seed=3)
    x = np.random.default_rng(3).random((3, 12)).astype(np.float32)
    y = np.array([0, 3, 1])
    return model, x, y, mg.squared_error(model(x), y)


def independent_slope(model, x, y, name, index, eps):
    twin = mg.nn.MLP([12, 5, 4], dtype=np.float64)
    twin.load_state_dict({k: v.astype(np.float64) for k, v in model.state_dict().items()})
    p = dict(twin.named_parameters())[name]
    w = p.data[index]
    costs = []
    for sign in (1, -1):
        p.data[index] = w + sign * eps
        costs.append(float(mg.squared_error(twin(x.astype(np.float64)), y).data))
    p.data[index] = w
    twin.zero_grad()
    mg.squared_error(twin(x.astype(np.float64)), y).backward()
    return (costs[0] - costs[1]) / (2 * eps), float(p.grad[index])


def test_panel_at_every_parameter(browser, tmp_path):  # noqa: F811
    model, x, y, cost = build()
    data = page_data(cost, model=model)
    path = backprop_page(cost, tmp_path / "page.html", model=model)
    names = {i: n["label"] for i, n in data["nodes"].items()}
    page, seen = open_page(browser, path)
    try:
        page.keyboard.press("End")
        visited = set()
        for _ in range(len(data["backward"])):
            page.keyboard.press("ArrowLeft")
            step = data["backward"][
                int(page.evaluate("document.body.dataset.step")) - 1 - len(data["forward"])
            ]
            params = [i["node"] for i in step["inputs"] if i["parameter"]]
            panels = page.locator("#mg-panel [data-role='nudge']")
            assert panels.count() == len(params)
            if not params:
                continue
            node = params[0]
            visited.add(node)
            elements = data["nudge"]["params"][node]["elements"]
            k = len(elements) - 1  # the last offered element, then the finest ε but one
            page.select_option("#mg-panel [data-role='nudge'] select", str(k))
            page.click(f"#mg-panel [data-role='nudge-eps'][data-k='{len(data['nudge']['eps']) - 2}']")
            shown = page.evaluate(READ)
            assert shown["node"] == node and shown["rows"] == len(data["nudge"]["eps"])
            assert shown["element"].startswith(elements[k]["label"])
            eps = data["nudge"]["eps"][-2]
            assert float(shown["chosen"]) == eps
            index = tuple(elements[k]["index"])
            slope, grad = independent_slope(model, x, y, names[node], index, eps)
            assert float(shown["slope"]) == pytest.approx(slope, rel=1e-7, abs=1e-12)
            assert float(shown["backprop"]) == pytest.approx(grad, rel=1e-9, abs=1e-15)
        assert visited == {n for n, v in data["nodes"].items() if v["kind"] == "parameter"}
        # the choice stays while the learner steps away and back
        page.keyboard.press("End")
        page.keyboard.press("ArrowLeft")
        assert float(page.evaluate(READ)["chosen"]) == data["nudge"]["eps"][-2]
        assert_quiet(seen)
    finally:
        page.close()
