// The dmn-js editor for a discretion table: opens the decision table view, saves the whole DMN file
// to the server, and shows the engine's refusals in a list and on the cells or rules they name.
(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  function init() {
    var island = document.getElementById('dmn-data');
    if (!island) { return; }
    var data = JSON.parse(island.textContent);
    var container = document.getElementById('dmn-editor');
    var result = document.getElementById('save-result');
    var list = document.getElementById('save-errors');
    var modeler = new window.DmnJS({ container: container });
    window.zhifaDmn = modeler; // for the browser tests and the console

    fetch(data.xml_url, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) { throw new Error('table ' + r.status); } return r.text(); })
      .then(function (xml) { return modeler.importXML(xml); })
      .then(function () {
        var table = modeler.getViews().filter(function (v) { return v.type === 'decisionTable'; })[0];
        return table ? modeler.open(table) : null;
      })
      .then(function () { container.dataset.ready = 'true'; })
      .catch(function (err) { console.error(err); container.dataset.ready = 'failed'; });

    function clearErrors() {
      list.textContent = '';
      container.querySelectorAll('.dmn-error').forEach(function (el) { el.classList.remove('dmn-error'); });
    }

    function mark(elementId) {
      if (!elementId) { return; }
      var escaped = window.CSS && CSS.escape ? CSS.escape(elementId) : elementId;
      container.querySelectorAll('[data-element-id="' + escaped + '"], [data-row-id="' + escaped + '"], [data-col-id="' + escaped + '"]')
        .forEach(function (el) { el.classList.add('dmn-error'); });
    }

    function showErrors(body) {
      result.className = 'error';
      result.textContent = data.messages.failed + ' ' + (body.detail || '');
      (body.errors || []).forEach(function (e) {
        var where = [e.element_id, e.file, e.line ? data.messages.line.replace('{line}', e.line) : null, e.field].filter(Boolean).join(' · ');
        var item = document.createElement('li');
        item.textContent = (where ? where + ': ' : '') + e.message;
        if (e.element_id) { item.dataset.elementId = e.element_id; }
        list.appendChild(item);
        mark(e.element_id);
      });
    }

    document.getElementById('save-table').addEventListener('click', function () {
      clearErrors();
      result.textContent = '';
      result.className = '';
      modeler.saveXML({ format: true })
        .then(function (saved) {
          return fetch(data.save_url, {
            method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
            body: JSON.stringify({ xml: saved.xml })
          });
        })
        .then(function (response) {
          if (!response.ok) { throw new Error('save request: HTTP ' + response.status); }
          return response.json();
        })
        .then(function (body) {
          if (body.saved) {
            result.className = 'success';
            result.textContent = (body.created ? data.messages.saved : data.messages.unchanged).replace('{version}', body.version);
          } else {
            showErrors(body);
          }
        })
        .catch(function (err) { console.error(err); result.className = 'error'; result.textContent = String(err); });
    });
  }

  document.addEventListener('DOMContentLoaded', init);
})();
