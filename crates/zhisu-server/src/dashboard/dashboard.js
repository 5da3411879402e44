// The dashboard's only script, served from /dashboard/dashboard.js (the pages' content
// security policy runs no inline script). Every page works without it.
//
// Downloads an export with a progress bar (bytes received of the announced length, and the
// number of interviews), then hands the file to the browser; without script the links still
// download directly.
document.querySelectorAll('a[data-export]').forEach(function (link) {
  link.addEventListener('click', async function (event) {
    event.preventDefault();
    var bar = document.getElementById('export-progress');
    var status = document.getElementById('export-status');
    var say = status.dataset;
    bar.hidden = false; bar.removeAttribute('value'); status.textContent = say.preparing;
    try {
      var response = await fetch(link.href, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(response.status + ' ' + response.statusText);
      var total = Number(response.headers.get('content-length')) || 0;
      var count = response.headers.get('x-zhisu-rows') || '';
      var reader = response.body.getReader(), chunks = [], got = 0;
      bar.max = total || 1; bar.value = 0;
      for (;;) {
        var step = await reader.read();
        if (step.done) break;
        chunks.push(step.value); got += step.value.length; bar.value = total ? got : 0;
        status.textContent = say.received + ' ' + Math.round(got / 1024) + (total ? ' / ' + Math.round(total / 1024) : '') + ' KB';
      }
      var name = (response.headers.get('content-disposition') || '').split('filename="')[1] || 'zhisu-export';
      var blob = new Blob(chunks, { type: response.headers.get('content-type') || 'application/octet-stream' });
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob); a.download = name.replace('"', ''); document.body.appendChild(a); a.click(); a.remove();
      bar.value = bar.max;
      status.textContent = say.done + a.download + (count ? '（' + count + ' ' + say.rows + '）' : '');
    } catch (e) {
      status.textContent = say.failed + e.message;
    }
  });
});

// The report's "print / save as PDF" button.
var printButton = document.getElementById('print');
if (printButton) {
  printButton.addEventListener('click', function () { window.print(); });
}

// A table box that scrolls sideways (a narrow screen) joins the Tab order, so the keyboard can
// scroll it too; one that fits leaves it (no useless stop).
function reachableScrollBoxes() {
  document.querySelectorAll('.scroll').forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1) box.setAttribute('tabindex', '0');
    else box.removeAttribute('tabindex');
  });
}
reachableScrollBoxes();
window.addEventListener('resize', reachableScrollBoxes);
