// Bar chart of overdue and due-soon deadlines per child agency (Chart.js), redrawn after htmx swaps.
(function () {
  var chart = null;
  function draw() {
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
