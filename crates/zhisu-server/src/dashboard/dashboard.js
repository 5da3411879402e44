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
      // a streamed CSV announces no count: every row ends with CR LF and no cell holds a CR
      // (the server writes line breaks within a cell as LF)
      var csv = (response.headers.get('content-type') || '').indexOf('text/csv') === 0, lines = 0;
      var reader = response.body.getReader(), chunks = [], got = 0;
      bar.max = total || 1; bar.value = 0;
      for (;;) {
        var step = await reader.read();
        if (step.done) break;
        chunks.push(step.value); got += step.value.length; bar.value = total ? got : 0;
        if (csv && !count) for (var i = 0; i < step.value.length; i++) if (step.value[i] === 13) lines++;
        status.textContent = say.received + ' ' + Math.round(got / 1024) + (total ? ' / ' + Math.round(total / 1024) : '') + ' KB';
      }
      var name = (response.headers.get('content-disposition') || '').split('filename="')[1] || 'zhisu-export';
      var blob = new Blob(chunks, { type: response.headers.get('content-type') || 'application/octet-stream' });
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob); a.download = name.replace('"', ''); document.body.appendChild(a); a.click(); a.remove();
      if (!count && csv && lines > 0) count = String(lines - 1);
      // a streamed file announces no length: the bar ends at what came
      if (!total) bar.max = Math.max(got, 1);
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

// Recordings page: a record button per question and answer, shown only where the browser can
// record (MediaRecorder and a microphone). Press to record, press again to stop: the recording
// is sent as it is (webm/opus or ogg/opus, as the browser makes it) with the session's CSRF
// token, and the page opens again showing it. Without script the upload form does the same.
(function () {
  var table = document.getElementById('recordings');
  if (!table || !window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var say = table.dataset;
  var help = document.getElementById('record-help');
  if (help) help.hidden = false;
  var busy = null;
  table.querySelectorAll('button.record').forEach(function (button) {
    button.hidden = false;
    var row = button.closest('tr');
    var status = row.querySelector('.record-status');
    button.addEventListener('click', async function () {
      if (busy && busy.button !== button) return;
      if (busy) { busy.recorder.stop(); return; }
      var stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (e) {
        status.textContent = say.sayFailed + e.name;
        return;
      }
      var chunks = [];
      var recorder = new MediaRecorder(stream);
      busy = { button: button, recorder: recorder };
      recorder.ondataavailable = function (event) { if (event.data.size) chunks.push(event.data); };
      recorder.onstop = async function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        button.textContent = say.sayRecord; button.setAttribute('aria-pressed', 'false');
        status.textContent = say.saySaving;
        var blob = new Blob(chunks, { type: recorder.mimeType || 'audio/webm' });
        var url = table.dataset.upload + '?item=' + encodeURIComponent(row.dataset.item) +
          '&option=' + encodeURIComponent(row.dataset.option);
        try {
          var response = await fetch(url, {
            method: 'POST', credentials: 'same-origin', body: blob,
            headers: { 'x-csrf-token': say.csrf, 'content-type': blob.type }
          });
          if (!response.ok) {
            var problem = await response.json().catch(function () { return { message: response.statusText }; });
            throw new Error(problem.message);
          }
          var saved = await response.json();
          var next = new URL(location.href);
          next.searchParams.set('saved', row.dataset.item + ' ' + row.dataset.option);
          next.searchParams.delete('error');
          next.hash = '';
          status.textContent = '';
          document.body.dataset.lastRecording = saved.sha256;
          location.assign(next.toString());
        } catch (e) {
          status.textContent = say.sayFailed + e.message;
        } finally {
          busy = null;
        }
      };
      recorder.start();
      button.textContent = say.sayStop; button.setAttribute('aria-pressed', 'true');
      status.textContent = '';
    });
  });
})();
