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
      throw new Error(parts.join(' · '));
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

    var metadata = {title: form.elements.title.value || file.name, description: form.elements.description.value};
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
      })
      .then(function () { button.disabled = false; });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = document.getElementById('evidence-upload');
    if (!form) { return; }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      start(form);
    });
  });
})();
