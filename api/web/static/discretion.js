// The decision form's discretion band: a choice of tier fetches that tier's band from the server, and a
// fine outside the band shows a warning and marks the deviation reason as required. The server's check
// when the form is submitted is what decides; this only warns before.
(function () {
  'use strict';

  function box() { return document.getElementById('discretion-band'); }

  function outside(amount) {
    var b = box();
    if (!b || !b.dataset.low || amount === '' || isNaN(Number(amount))) { return false; }
    var value = Number(amount), low = Number(b.dataset.low), high = Number(b.dataset.high);
    return value < low || (b.dataset.exclusive === 'true' ? value >= high : value > high);
  }

  function check() {
    var fine = document.querySelector('[name=fine_amount]');
    var reason = document.querySelector('[name=deviation_reason]');
    var warning = document.getElementById('band-warning');
    if (!fine || !warning) { return; }
    var out = outside(fine.value.trim());
    warning.hidden = !out;
    if (reason) {
      reason.required = out;
      var label = document.querySelector('label[for="' + reason.id + '"]');
      var mark = label && label.querySelector('.req-band');
      if (out && label && !mark) {
        mark = document.createElement('span');
        mark.className = 'req req-band';
        mark.textContent = ' *';
        label.appendChild(mark);
      } else if (!out && mark) {
        mark.remove();
      }
    }
  }

  function reload(tier) {
    var b = box();
    if (!b) { return; }
    var url = b.dataset.url + (tier ? '?discretion_tier=' + encodeURIComponent(tier) : '');
    fetch(url, {credentials: 'same-origin'}).then(function (response) {
      return response.ok ? response.text() : Promise.reject(new Error(response.statusText));
    }).then(function (html) {
      b.outerHTML = html;
      check();
    }).catch(function () { /* the band stays as it was; the server checks on submit */ });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var fine = document.querySelector('[name=fine_amount]');
    var tier = document.querySelector('select[name=discretion_tier]');
    if (fine) { fine.addEventListener('input', check); }
    if (tier) { tier.addEventListener('change', function () { reload(tier.value); }); }
    check();
  });
})();
