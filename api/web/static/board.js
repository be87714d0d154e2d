// Bar chart of overdue and due-soon deadlines per child agency (Chart.js), redrawn after htmx swaps.
(function () {
  var chart = null;
  var figures = null;
  function drawFigures() {
    var island = document.getElementById('figures-data');
    var canvas = document.getElementById('figures-chart');
    if (figures) { figures.destroy(); figures = null; }
    if (!island || !canvas || !window.Chart) { return; }
    var data = JSON.parse(island.textContent);
    figures = new window.Chart(canvas, {
      type: 'doughnut',
      data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: ['#3c9a5f', '#e0a800', '#c0392b'] }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: 'right' } } }
    });
  }
  function draw() {
    drawFigures();
    var island = document.getElementById('board-data');
    var canvas = document.getElementById('board-chart');
    if (chart) { chart.destroy(); chart = null; }
    if (!island || !canvas || !window.Chart) { return; }
    var data = JSON.parse(island.textContent);
    chart = new window.Chart(canvas, {
      type: 'bar',
      data: {
        labels: data.labels,
        datasets: [
          { label: data.names.overdue, data: data.overdue, backgroundColor: '#c0392b' },
          { label: data.names.soon, data: data.soon, backgroundColor: '#e0a800' }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  document.addEventListener('DOMContentLoaded', draw);
  document.addEventListener('htmx:afterSettle', draw);
})();
