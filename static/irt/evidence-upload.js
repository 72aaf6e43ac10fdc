// Evidence upload with a progress bar. Without JavaScript the form posts normally.
(function () {
  "use strict";
  var form = document.getElementById("evidence-upload");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var progressField = document.getElementById("evidence-upload-progress-field");
  var progress = document.getElementById("evidence-upload-progress");
  var statusText = document.getElementById("evidence-upload-status");
  var errorList = document.getElementById("evidence-upload-errors");
  var button = form.querySelector("button[type=submit]");
  var cancelButton = document.getElementById("evidence-upload-cancel");
  var current = null;
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);

  function formatBytes(bytes) {
    // IEC units, as irt/sizes.py writes them on the page.
    var units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? value : value.toFixed(1)) + " " + units[unit];
  }

  function formatDuration(seconds) {
    if (!isFinite(seconds)) {
      return "calculating time left";
    }
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) {
      return seconds + " s left";
    }
    var minutes = Math.floor(seconds / 60);
    return minutes < 60 ? minutes + " min " + (seconds % 60) + " s left" : Math.floor(minutes / 60) + " h " + (minutes % 60) + " min left";
  }

  // "42% · 12.0 MiB of 28.6 MiB · 3.1 MiB/s · 5 s left"
  function describeProgress(loaded, total, startedAt) {
    var elapsed = (Date.now() - startedAt) / 1000;
    var speed = elapsed > 0 ? loaded / elapsed : 0;
    var parts = [Math.floor((loaded / total) * 100) + "%", formatBytes(loaded) + " of " + formatBytes(total)];
    if (speed > 0) {
      parts.push(formatBytes(speed) + "/s", formatDuration((total - loaded) / speed));
    }
    return parts.join(" · ");
  }

  function showErrors(errors) {
    errorList.textContent = "";
    errors.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      errorList.appendChild(item);
    });
  }

  function finish() {
    current = null;
    button.disabled = false;
    cancelButton.hidden = true;
    form.removeAttribute("aria-busy");
  }

  cancelButton.hidden = true;
  cancelButton.addEventListener("click", function () {
    if (current) {
      current.abort();
    }
  });

  form.addEventListener("submit", function (event) {
    var fileInput = form.querySelector("input[type=file]");
    var file = fileInput && fileInput.files[0];
    event.preventDefault();
    showErrors([]);
    if (!file) {
      showErrors(["Choose a file to upload."]);
      return;
    }
    if (!isNaN(maxBytes) && file.size > maxBytes) {
      showErrors(["The file is " + formatBytes(file.size) + "; the evidence limit is " + formatBytes(maxBytes) + ". Nothing was sent."]);
      return;
    }
    var xhr = new XMLHttpRequest();
    var startedAt = Date.now();
    current = xhr;
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("X-CSRFToken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        progress.max = e.total;
        progress.value = e.loaded;
        statusText.textContent = describeProgress(e.loaded, e.total, startedAt);
      }
    });
    xhr.upload.addEventListener("load", function () {
      cancelButton.hidden = true;
      statusText.textContent = "Sent. The server is storing the file…";
    });
    xhr.addEventListener("load", function () {
      var body = xhr.response || {};
      if (xhr.status >= 200 && xhr.status < 300 && body.location) {
        window.location.assign(body.location);
        return;
      }
      finish();
      statusText.textContent = "Not stored.";
      showErrors(body.errors || ["The server refused the upload (HTTP " + xhr.status + "). Nothing was stored."]);
    });
    xhr.addEventListener("abort", function () {
      finish();
      progress.value = 0;
      statusText.textContent = "Upload cancelled. Nothing was stored.";
    });
    xhr.addEventListener("error", function () {
      finish();
      statusText.textContent = "Not stored.";
      showErrors(["The upload was interrupted. Nothing was stored; try again."]);
    });
    button.disabled = true;
    cancelButton.hidden = false;
    form.setAttribute("aria-busy", "true");
    progressField.hidden = false;
    progress.value = 0;
    xhr.send(new FormData(form));
  });
})();
