// Evidence capture on the case page: the chosen photo, sound or video goes through the resumable
// upload (create -> PATCH chunks at Upload-Offset -> finish). When a chunk is lost (the phone's
// connection drops), the script asks the server where the upload stands and goes on from there.
(function () {
  'use strict';
  var RETRIES = 5;

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function refusal(response) {
    return response.json().then(function (body) {
      var parts = [body.detail].concat((body.problems || []).map(function (p) { return (p.field ? p.field + ': ' : '') + p.message; }));
      var error = new Error(parts.join(' · '));
      error.problems = body.problems || [];
      throw error;
    }, function () { throw new Error(response.status + ' ' + response.statusText); });
  }

  function json(url, method, body) {
    return fetch(url, {
      method: method, credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf(), 'Accept': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) { return response.ok ? response.json() : refusal(response); });
  }

  function send(form, file, upload, report) {
    var chunk = parseInt(form.dataset.chunk, 10) || 524288;
    var url = form.dataset.uploadUrl.replace('UPLOAD_ID', upload.id);
    var failures = 0;

    function from(offset) {
      if (offset >= file.size) { return Promise.resolve(); }
      report(offset);
      var end = Math.min(offset + chunk, file.size);
      return fetch(url, {
        method: 'PATCH', credentials: 'same-origin', body: file.slice(offset, end),
        headers: {'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), 'X-CSRFToken': csrf()}
      }).then(function (response) {
        if (response.ok) { failures = 0; return from(parseInt(response.headers.get('Upload-Offset'), 10)); }
        if (response.status === 409) { return resume(); }  // the server stands elsewhere: ask it where
        return refusal(response);
      }, function () {
        return resume();  // the connection dropped: whatever arrived is kept on the server
      });
    }

    function resume() {
      failures += 1;
      if (failures > RETRIES) { return Promise.reject(new Error(form.dataset.msgResuming)); }
      report(null);
      return json(url, 'GET').then(function (state) { return from(state.offset); });
    }

    return from(0);
  }

  function refreshGallery() {
    var box = document.getElementById('evidence-gallery-box');
    return fetch(box.dataset.url, {credentials: 'same-origin'}).then(function (response) {
      if (!response.ok) { return refusal(response); }
      return response.text().then(function (html) { box.innerHTML = html; });
    });
  }

  // Capture metadata: China time (UTC+8) for <input type=datetime-local>, as the other forms use.
  var CHINA_OFFSET_MS = 8 * 3600 * 1000;

  function chinaLocal(ms) {
    return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 16);
  }

  function instant(value) {
    return /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(value) ? value + ':00+08:00' : value;
  }

  function captureMetadata(form) {
    var meta = {};
    ['captured_at', 'device_id', 'latitude', 'longitude'].forEach(function (name) {
      var input = form.elements[name];
      var value = input ? input.value.trim() : '';
      if (value !== '') { meta[name] = name === 'captured_at' ? instant(value) : value; }
    });
    return meta;
  }

  function clearFieldErrors(form) {
    form.querySelectorAll('[data-error-for]').forEach(function (list) {
      list.innerHTML = '';
      var input = form.elements[list.dataset.errorFor];
      if (input) { input.removeAttribute('aria-invalid'); input.closest('.field').classList.remove('invalid'); }
    });
  }

  function showFieldErrors(form, problems) {
    (problems || []).forEach(function (problem) {
      var list = problem.field && form.querySelector('[data-error-for="' + problem.field + '"]');
      if (!list) { return; }
      var item = document.createElement('li');
      item.textContent = problem.message;
      list.appendChild(item);
      var input = form.elements[problem.field];
      if (input) { input.setAttribute('aria-invalid', 'true'); input.closest('.field').classList.add('invalid'); }
    });
  }

  // Zhifa's clock now, as the page had it when it loaded plus the time since: a file's time later
  // than that is not taken (the server refuses capture times in the future); the officer enters it.
  var loadedAt = Date.now();

  function zhifaNow(form) {
    var serverNow = parseInt(form.dataset.nowMs, 10);
    return isNaN(serverNow) ? Date.now() : serverNow + (Date.now() - loadedAt);
  }

  function fillFromFile(form, file) {
    var input = form.elements.captured_at;
    input.value = file && file.lastModified && file.lastModified <= zhifaNow(form) ? chinaLocal(file.lastModified) : '';
    if (!form.elements.device_id.value) { form.elements.device_id.value = navigator.userAgent.slice(0, 120); }
  }

  function locate(form) {
    var status = document.getElementById('evidence-locate-status');
    var button = document.getElementById('evidence-locate');
    if (!navigator.geolocation) { status.textContent = button.dataset.msgDenied; return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.latitude.value = position.coords.latitude.toFixed(6);
      form.elements.longitude.value = position.coords.longitude.toFixed(6);
      status.textContent = '±' + Math.round(position.coords.accuracy) + ' m';
    }, function () {
      status.textContent = button.dataset.msgDenied;  // the officer did not allow it: entered by hand
    }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
  }

  function start(form) {
    var input = form.querySelector('input[type=file]');
    var status = document.getElementById('evidence-status');
    var progress = document.getElementById('evidence-progress');
    var button = form.querySelector('button[type=submit]');
    var file = input.files[0];
    if (!file) { status.textContent = form.dataset.msgChoose; return; }

    function report(offset) {
      progress.hidden = false;
      if (offset === null) { status.textContent = form.dataset.msgResuming; return; }
      var percent = Math.floor(100 * offset / file.size);
      progress.value = percent;
      status.textContent = form.dataset.msgSending.replace('PERCENT', String(percent));
    }

    var metadata = Object.assign({title: form.elements.title.value || file.name, description: form.elements.description.value},
                                 captureMetadata(form));
    clearFieldErrors(form);
    button.disabled = true;
    status.className = '';
    json(form.dataset.createUrl, 'POST', {length: file.size, filename: file.name, metadata: metadata})
      .then(function (upload) {
        return send(form, file, upload, report).then(function () {
          return json(form.dataset.finishUrl.replace('UPLOAD_ID', upload.id), 'POST', {});
        });
      })
      .then(function (item) {
        progress.value = 100;
        status.innerHTML = '';
        status.appendChild(document.createTextNode(form.dataset.msgDone + ' '));
        var code = document.createElement('code');
        code.className = 'hash';
        code.textContent = item.sha256;
        status.appendChild(code);
        status.className = 'ok';
        form.reset();
        return refreshGallery();
      })
      .catch(function (error) {
        status.textContent = form.dataset.msgFailed + ' ' + error.message;
        status.className = 'error';
        showFieldErrors(form, error.problems);
      })
      .then(function () { button.disabled = false; });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = document.getElementById('evidence-upload');
    if (!form) { return; }
    var input = form.querySelector('input[type=file]');
    input.addEventListener('change', function () { fillFromFile(form, input.files[0]); });
    document.getElementById('evidence-locate').addEventListener('click', function () { locate(form); });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      start(form);
    });
  });
})();
