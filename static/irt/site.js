// Ask before consequential actions: any form with data-confirm="question".
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Tables reflow on a phone (site.css): each cell carries its column's heading as data-label.
// Cells spanning columns and cells under an empty or visually hidden heading get no label.
function labelTableCells(root) {
  root.querySelectorAll("table").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    if (!heads.length || table.classList.contains("no-reflow")) { return; }
    var labels = Array.prototype.map.call(heads, function (th) {
      return th.querySelector(".sr-only") ? "" : th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (cell.tagName === "TD" && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", cell.colSpan > 1 ? "" : (labels[index] || ""));
        }
      });
    });
    table.classList.add("reflow");
  });
}
labelTableCells(document);

// Markdown preview: the button under a Markdown field shows the text as readers will see it,
// rendered and sanitised by the server (cases:markdown-preview), never by this script.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-markdown-preview]");
  var endpoint = document.querySelector("meta[name=irt-markdown-preview]");
  if (!button || !endpoint) { return; }
  var field = document.getElementById(button.getAttribute("data-markdown-preview"));
  var target = document.getElementById(button.getAttribute("aria-controls"));
  if (!field || !target) { return; }
  if (!target.hidden) {
    target.hidden = true;
    button.textContent = "Preview";
    button.setAttribute("aria-expanded", "false");
    return;
  }
  var token = field.form && field.form.querySelector("input[name=csrfmiddlewaretoken]");
  var body = new URLSearchParams();
  body.append("text", field.value);
  fetch(endpoint.content, {
    method: "POST", body: body, credentials: "same-origin",
    headers: {"X-CSRFToken": token ? token.value : "", "X-Requested-With": "XMLHttpRequest"}
  }).then(function (response) {
    return response.text().then(function (text) { return {ok: response.ok, text: text}; });
  }).then(function (answer) {
    if (answer.ok) {
      target.innerHTML = answer.text.trim() || "<p class=\"empty\">Nothing to preview yet.</p>";
    } else {
      target.textContent = answer.text || "The preview is not available.";
    }
    target.hidden = false;
    button.textContent = "Hide preview";
    button.setAttribute("aria-expanded", "true");
  }, function () {
    target.textContent = "The preview is not available (no connection).";
    target.hidden = false;
  });
});

// After a submit that comes back to the same page, return to the section the person was working
// in: its heading takes the focus and the page's messages move up beside it.
document.addEventListener("submit", function (event) {
  if (event.defaultPrevented) { return; }
  var section = event.target.closest("section[aria-labelledby]");
  try {
    sessionStorage.setItem("irt-return-to", section ? JSON.stringify({path: location.pathname, heading: section.getAttribute("aria-labelledby")}) : "");
  } catch (e) { /* storage off: the page simply starts at the top */ }
});
(function returnToSection() {
  var saved;
  try {
    saved = JSON.parse(sessionStorage.getItem("irt-return-to") || "null");
    sessionStorage.removeItem("irt-return-to");
  } catch (e) { return; }
  if (!saved || saved.path !== location.pathname) { return; }
  var heading = document.getElementById(saved.heading);
  if (!heading) { return; }
  var messages = document.querySelector("main > .messages");
  if (messages) { heading.insertAdjacentElement("afterend", messages); }
  heading.setAttribute("tabindex", "-1");
  heading.focus({preventScroll: true});
  heading.scrollIntoView({block: "start"});
})();

// Every past "YYYY-MM-DD HH:MM UTC" on a page gets its age beside it ("12 min ago"); on a
// customer's pages also the reader's own local time. The UTC text stays as the server wrote it.
function describeAge(then, now) {
  // Only the past: a time ahead is a deadline, and the pages already say how long is left.
  var minutes = Math.round((now - then) / 60000);
  var text;
  if (minutes < 0) { return ""; }
  if (minutes < 1) { return "just now"; }
  if (minutes < 60) { text = minutes + " min"; }
  else if (minutes < 48 * 60) { text = Math.floor(minutes / 60) + " h" + (minutes % 60 && minutes < 600 ? " " + (minutes % 60) + " min" : ""); }
  else if (minutes < 60 * 24 * 60) { text = Math.round(minutes / 1440) + " days"; }
  else { return ""; }
  return text + " ago";
}
function showAges(root, showLocal) {
  var pattern = /(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))? UTC/g;
  var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: function (node) {
      return node.parentElement.closest("textarea, option, script, .age, [data-no-age]") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
    }
  });
  var nodes = [];
  while (walker.nextNode()) { if (pattern.test(walker.currentNode.nodeValue)) { nodes.push(walker.currentNode); } pattern.lastIndex = 0; }
  var now = Date.now();
  nodes.forEach(function (node) {
    var text = node.nodeValue, last = 0, fragment = document.createDocumentFragment(), match;
    while ((match = pattern.exec(text)) !== null) {
      var then = Date.UTC(+match[1], match[2] - 1, +match[3], +match[4], +match[5], +(match[6] || 0));
      var end = match.index + match[0].length;
      fragment.appendChild(document.createTextNode(text.slice(last, end)));
      var extra = [describeAge(then, now)];
      if (showLocal && new Date(then).getTimezoneOffset() !== 0) {
        extra.push(new Date(then).toLocaleString([], {dateStyle: "medium", timeStyle: "short"}) + " your time");
      }
      extra = extra.filter(Boolean);
      if (extra.length) {
        var age = document.createElement("span");
        age.className = "age";
        age.textContent = " (" + extra.join("; ") + ")";
        fragment.appendChild(age);
      }
      last = end;
    }
    fragment.appendChild(document.createTextNode(text.slice(last)));
    node.parentNode.replaceChild(fragment, node);
  });
}
if (document.getElementById("main")) {
  showAges(document.getElementById("main"), document.body.hasAttribute("data-local-times"));
}

// Breach notices going out: while a fragment carries data-refresh-url, fetch it again every few
// seconds and put the new counts in its place (notifications:notice-progress). Stops when nothing
// is pending, after an hour in any case, and backs off while the server does not answer.
(function () {
  var first = document.querySelector("[data-refresh-url]");
  if (!first) { return; }
  var deadline = Date.now() + 60 * 60 * 1000;
  var delay = 3000;
  function refresh() {
    var current = document.getElementById(first.id);
    var url = current && current.getAttribute("data-refresh-url");
    if (!url || Date.now() > deadline) { return; }
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 10000);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, signal: controller.signal })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        if (fresh) {
          labelTableCells(holder);
          current.replaceWith(fresh);
        }
        delay = 3000;
      })
      .catch(function () { delay = Math.min(delay * 2, 60000); })
      .finally(function () { clearTimeout(timer); setTimeout(refresh, delay); });
  }
  setTimeout(refresh, delay);
})();
