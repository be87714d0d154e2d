// The bpmn-js viewer of a procedure; on a case page it marks completed steps, current tasks and
// waiting statutory time limits (with due date and legal basis) from the JSON island #diagram-data.
(function () {
  function overlay(text, className) {
    var div = document.createElement('div');
    div.className = className;
    div.textContent = text;
    return div;
  }

  // A whole procedure is too wide to read at once: centre the first current task (or waiting
  // timer) at a readable zoom; the viewer can be dragged and zoomed with the mouse wheel.
  function focus(canvas, registry, ids) {
    var el = ids.map(function (id) { return registry.get(id); }).filter(Boolean)[0];
    var start = !el;
    if (start) { el = registry.filter(function (e) { return e.type === 'bpmn:StartEvent'; })[0]; }
    if (!el) { return; }
    var size = canvas.getSize();
    var zoom = size.width < 600 ? 0.7 : 0.9;
    var w = size.width / zoom, h = size.height / zoom;
    var x = start ? el.x - 60 : el.x + el.width / 2 - w / 2;
    canvas.viewbox({ x: x, y: el.y + el.height / 2 - h / 2, width: w, height: h });
  }

  function init() {
    var container = document.getElementById('diagram');
    var island = document.getElementById('diagram-data');
    if (!container || !island) { return; }
    var data = JSON.parse(island.textContent);
    var viewer = new window.BpmnJS({ container: container });
    fetch(data.xml_url, { credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) { throw new Error('diagram ' + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get('canvas');
        var registry = viewer.get('elementRegistry');
        var overlays = viewer.get('overlays');
        canvas.zoom('fit-viewport');
        data.completed.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, 'completed'); } });
        data.current.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, 'current'); } });
        (data.added || []).forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, 'diff-added'); } });
        (data.changed || []).forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, 'diff-changed'); } });
        (data.heat || []).forEach(function (h) {
          if (!registry.get(h.bpmn_id)) { return; }
          canvas.addMarker(h.bpmn_id, 'heat-' + h.level);
          overlays.add(h.bpmn_id, 'heat', { position: { bottom: 0, right: 0 },
                                            html: overlay(h.label + ' (' + h.count + ')', 'heat-overlay heat-' + h.level) });
        });
        data.timers.forEach(function (t) {
          if (!registry.get(t.bpmn_id)) { return; }
          canvas.addMarker(t.bpmn_id, 'timer-' + t.status);
          var text = t.due_local + (t.legal_basis ? ' · ' + t.legal_basis : '');
          var box = overlay(text, 'timer-overlay ' + t.status);
          box.title = t.name + ': ' + text;
          overlays.add(t.bpmn_id, 'timer', { position: { top: 40, left: -60 }, html: box });
        });
        focus(canvas, registry, data.current.concat(data.timers.map(function (t) { return t.bpmn_id; }),
                                                   data.changed || [], data.added || []));
        container.dataset.ready = 'true';
      })
      .catch(function (err) {
        container.textContent = container.dataset.failed || 'The diagram could not be shown.';
        container.dataset.ready = 'failed';
        console.error(err);
      });
  }

  document.addEventListener('DOMContentLoaded', init);
})();
