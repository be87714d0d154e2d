// The bpmn-js modeler: edit names, form files, document templates and timers' statutory properties, deploy the diagram as a new version, and show the server's
// deployment errors on the elements they name (element_id) as well as in a list.
(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  var SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core';

  // The spiffworkflow:properties element of a BPMN element (kept by bpmn-js as a generic element).
  function propertiesOf(element) {
    var ext = element.businessObject.extensionElements;
    return ((ext && ext.values) || []).filter(function (v) { return v.$type === 'spiffworkflow:properties'; })[0] || null;
  }

  // The SpiffWorkflow extension property `name` of an element (formJsonSchemaFilename, legal_basis, ...).
  function spiffProperty(element, name) {
    var props = propertiesOf(element);
    return ((props && props.$children) || []).filter(function (c) { return c.name === name; })[0] || null;
  }

  // Set a property, adding it (and the extension elements holding it) when the element has none;
  // an empty value removes it, so deployment validation sees exactly what the panel shows.
  function setSpiffProperty(modeler, element, name, value) {
    var modeling = modeler.get('modeling'), moddle = modeler.get('moddle');
    var property = spiffProperty(element, name);
    if (property && value) { modeling.updateModdleProperties(element, property, { value: value }); return; }
    var props = propertiesOf(element);
    if (property && !value) {
      props.$children = props.$children.filter(function (c) { return c !== property; });
      modeling.updateProperties(element, {}); // marks the diagram changed
      return;
    }
    if (!value) { return; }
    if (!props) {
      props = moddle.createAny('spiffworkflow:properties', SPIFF_NS, { $children: [] });
      var ext = element.businessObject.extensionElements;
      if (!ext) {
        ext = moddle.create('bpmn:ExtensionElements', { values: [] });
        ext.$parent = element.businessObject;
        modeling.updateProperties(element, { extensionElements: ext });
      }
      props.$parent = ext;
      ext.values.push(props);
    }
    if (!props.$children) { props.$children = []; }
    var added = moddle.createAny('spiffworkflow:property', SPIFF_NS, { name: name, value: value });
    added.$parent = props;
    props.$children.push(added);
    modeling.updateProperties(element, {});
  }

  function timerOf(element) {
    return ((element.businessObject.eventDefinitions) || []).filter(function (d) { return d.$type === 'bpmn:TimerEventDefinition'; })[0] || null;
  }

  function timerExpression(definition) {
    var expr = definition.timeDate || definition.timeDuration || definition.timeCycle;
    return expr ? (expr.body || '') : '';
  }

  // Open readable: the start of the procedure at 80 %, right of the palette.
  function startView(modeler) {
    var canvas = modeler.get('canvas');
    var start = modeler.get('elementRegistry').filter(function (e) { return e.type === 'bpmn:StartEvent'; })[0];
    if (!start) { canvas.zoom('fit-viewport'); return; }
    var size = canvas.getSize(), zoom = 0.8;
    var w = size.width / zoom, h = size.height / zoom;
    canvas.viewbox({ x: start.x - 140, y: start.y + start.height / 2 - h / 2, width: w, height: h });
  }

  function zoomControls(modeler) {
    var canvas = modeler.get('canvas');
    document.getElementById('zoom-fit').addEventListener('click', function () { canvas.zoom('fit-viewport'); });
    document.getElementById('zoom-in').addEventListener('click', function () { canvas.zoom(canvas.zoom() * 1.25); });
    document.getElementById('zoom-out').addEventListener('click', function () { canvas.zoom(canvas.zoom() / 1.25); });
  }

  function init() {
    var island = document.getElementById('modeler-data');
    if (!island) { return; }
    var data = JSON.parse(island.textContent);
    var container = document.getElementById('modeler');
    var modeler = new window.BpmnJS({ container: container });
    window.zhifaModeler = modeler; // for the browser tests and the console
    zoomControls(modeler);
    var selected = null;
    var nameInput = document.getElementById('prop-name');
    var formInput = document.getElementById('prop-form');
    var templateInput = document.getElementById('prop-template');
    var basisInput = document.getElementById('prop-legal-basis');
    var amountInput = document.getElementById('prop-limit-amount');
    var unitInput = document.getElementById('prop-limit-unit');
    var kindInput = document.getElementById('prop-kind');
    var result = document.getElementById('deploy-result');
    var list = document.getElementById('deploy-errors');

    fetch(data.xml_url, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) { throw new Error('diagram ' + r.status); } return r.text(); })
      .then(function (xml) { return modeler.importXML(xml); })
      .then(function () {
        startView(modeler);
        container.dataset.ready = 'true';
      })
      .catch(function (err) { console.error(err); container.dataset.ready = 'failed'; });

    modeler.on('selection.changed', function (event) {
      selected = event.newSelection.length === 1 ? event.newSelection[0] : null;
      document.getElementById('props').hidden = !selected;
      document.getElementById('props-empty').hidden = !!selected;
      if (selected) {
        document.getElementById('prop-id').textContent = selected.id;
        document.getElementById('prop-type').textContent = selected.type;
        nameInput.value = selected.businessObject.name || '';
        var property = spiffProperty(selected, 'formJsonSchemaFilename');
        document.getElementById('prop-form-box').hidden = !property;
        formInput.value = property ? property.value : '';
        var isUserTask = selected.type === 'bpmn:UserTask';
        document.getElementById('prop-template-box').hidden = !isUserTask;
        var template = spiffProperty(selected, 'documentTemplate');
        templateInput.value = template ? template.value : '';
        var timer = timerOf(selected);
        document.getElementById('prop-timer-box').hidden = !timer;
        if (timer) {
          var value = function (name) { var p = spiffProperty(selected, name); return p ? p.value : ''; };
          basisInput.value = value('legal_basis');
          var limit = /^\s*(\d+)\s+([a-z_]+)\s*$/.exec(value('limit'));
          amountInput.value = limit ? limit[1] : '';
          unitInput.value = limit ? limit[2] : '';
          kindInput.value = value('kind');
          document.getElementById('prop-timer-expression').textContent = timerExpression(timer);
        }
      }
    });
    nameInput.addEventListener('change', function () {
      if (selected) { modeler.get('modeling').updateLabel(selected, nameInput.value); }
    });
    formInput.addEventListener('change', function () {
      var property = selected && spiffProperty(selected, 'formJsonSchemaFilename');
      if (property) { modeler.get('modeling').updateModdleProperties(selected, property, { value: formInput.value }); }
    });
    templateInput.addEventListener('change', function () {
      if (selected) { setSpiffProperty(modeler, selected, 'documentTemplate', templateInput.value.trim()); }
    });
    basisInput.addEventListener('change', function () {
      if (selected) { setSpiffProperty(modeler, selected, 'legal_basis', basisInput.value.trim()); }
    });
    function limitChanged() {
      if (!selected) { return; }
      var amount = amountInput.value.trim(), unit = unitInput.value;
      // Half a limit is kept as typed, so that deployment names what is wrong with it.
      setSpiffProperty(modeler, selected, 'limit', amount || unit ? (amount + ' ' + unit).trim() : '');
    }
    amountInput.addEventListener('change', limitChanged);
    unitInput.addEventListener('change', limitChanged);
    kindInput.addEventListener('change', function () {
      if (selected) { setSpiffProperty(modeler, selected, 'kind', kindInput.value); }
    });

    function clearErrors() {
      var canvas = modeler.get('canvas');
      modeler.get('overlays').remove({ type: 'deploy-error' });
      modeler.get('elementRegistry').forEach(function (el) { canvas.removeMarker(el, 'deploy-error'); });
      list.textContent = '';
    }

    function showErrors(body) {
      var canvas = modeler.get('canvas');
      var registry = modeler.get('elementRegistry');
      result.textContent = data.messages.failed + ' ' + (body.detail || '');
      result.className = 'error';
      (body.errors || []).forEach(function (e) {
        var where = [e.element_id, e.file, e.line ? 'line ' + e.line : null, e.field].filter(Boolean).join(' · ');
        var item = document.createElement('li');
        item.textContent = (where ? where + ': ' : '') + e.message;
        list.appendChild(item);
        if (e.element_id && registry.get(e.element_id)) {
          canvas.addMarker(e.element_id, 'deploy-error');
          var box = document.createElement('div');
          box.className = 'error-overlay';
          box.textContent = e.message;
          modeler.get('overlays').add(e.element_id, 'deploy-error', { position: { top: -30, left: 0 }, html: box });
        }
      });
    }

    document.getElementById('deploy').addEventListener('click', function () {
      clearErrors();
      result.textContent = '';
      modeler.saveXML({ format: true })
        .then(function (saved) {
          return fetch(data.deploy_url, {
            method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() },
            body: JSON.stringify({ filename: data.filename, xml: saved.xml, based_on: data.based_on })
          });
        })
        .then(function (response) {
          if (!response.ok) { throw new Error('deployment request: HTTP ' + response.status); }
          return response.json();
        })
        .then(function (body) {
          if (body.deployed) {
            var message = (body.created ? data.messages.deployed : data.messages.unchanged).replace('{version}', body.version);
            result.className = 'success';
            result.textContent = message + ' ';
            var link = document.createElement('a');
            link.href = body.url;
            link.textContent = data.messages.open;
            result.appendChild(link);
          } else {
            showErrors(body);
          }
        })
        .catch(function (err) { console.error(err); result.className = 'error'; result.textContent = String(err); });
    });
  }

  document.addEventListener('DOMContentLoaded', init);
})();
