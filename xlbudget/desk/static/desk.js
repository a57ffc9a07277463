// The desk's page behaviour: drop zone (files, folders, zips), upload progress and check progress,
// sortable and filterable tables. Plain JavaScript, no build step.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // --- upload -------------------------------------------------------------------------------------------
  var drop = document.getElementById("drop");
  if (drop) {
    var words = JSON.parse(document.getElementById("drop-words").textContent);
    var box = document.getElementById("progress");
    var fill = box.querySelector(".fill");
    var text = box.querySelector(".progress-text");
    var err = document.getElementById("upload-error");

    var show = function (done, total, label) {
      box.hidden = false;
      fill.style.width = (total ? Math.round(100 * done / total) : 0) + "%";
      text.textContent = label + " " + done + " / " + total;
    };

    var poll = function (url, total) {
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (p) {
        show(p.done, p.total, p.finished ? words.done : words.checking);
        if (p.finished) { setTimeout(function () { location.reload(); }, 400); }
        else { setTimeout(function () { poll(url, total); }, 700); }
      }).catch(function () { setTimeout(function () { poll(url, total); }, 1500); });
    };

    var busy = false;   // no self-reload while an upload or its checks are under way
    var send = function (files) {
      if (!files.length) { return; }
      busy = true;
      err.hidden = true;
      var form = new FormData();
      files.forEach(function (f) { form.append("files", f.file, f.name); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/submissions");
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { box.hidden = false; fill.style.width = Math.round(100 * e.loaded / e.total) + "%";
          text.textContent = words.sending + " " + files.length + " …"; }
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {error: xhr.statusText}; }
        if (xhr.status !== 201) { busy = false; box.hidden = true; err.hidden = false; err.textContent = body.error || xhr.statusText; return; }
        if (body.skipped && body.skipped.length) {
          err.hidden = false; err.className = "notice"; err.textContent = words.skipped + "：" + body.skipped.join("、");
        }
        show(0, body.accepted, words.checking);
        poll(body.progress, body.accepted);
      };
      xhr.onerror = function () { busy = false; box.hidden = true; err.hidden = false; err.textContent = xhr.statusText || "network error"; };
      xhr.send(form);
    };

    // a dropped folder is walked recursively; each file keeps its path inside the folder as its name
    var walk = function (entry, prefix, out) {
      return new Promise(function (resolve) {
        if (entry.isFile) {
          entry.file(function (f) { out.push({file: f, name: prefix + f.name}); resolve(); }, function () { resolve(); });
        } else if (entry.isDirectory) {
          var reader = entry.createReader(), all = [];
          var more = function () {
            reader.readEntries(function (batch) {
              if (!batch.length) {
                Promise.all(all.map(function (e) { return walk(e, prefix + entry.name + "/", out); })).then(resolve);
              } else { all = all.concat(Array.prototype.slice.call(batch)); more(); }
            }, function () { resolve(); });
          };
          more();
        } else { resolve(); }
      });
    };

    ["dragenter", "dragover"].forEach(function (ev) {
      document.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "dragend"].forEach(function (ev) {
      document.addEventListener(ev, function (e) { if (e.target === document.documentElement || e.target === drop) { drop.classList.remove("over"); } });
    });
    document.addEventListener("drop", function (e) {
      e.preventDefault();
      drop.classList.remove("over");
      var items = e.dataTransfer.items, out = [], pending = [];
      if (items && items.length && items[0].webkitGetAsEntry) {
        for (var i = 0; i < items.length; i++) {
          var entry = items[i].webkitGetAsEntry(), file = entry ? null : items[i].getAsFile();
          if (entry) { pending.push(walk(entry, "", out)); }
          else if (file) { out.push({file: file, name: file.name}); }
        }
        Promise.all(pending).then(function () { send(out); });
      } else {
        send(Array.prototype.map.call(e.dataTransfer.files, function (f) { return {file: f, name: f.name}; }));
      }
    });
    ["pick-files", "pick-folder"].forEach(function (id) {
      var input = document.getElementById(id);
      input.addEventListener("change", function () {
        send(Array.prototype.map.call(input.files, function (f) { return {file: f, name: f.webkitRelativePath || f.name}; }));
        input.value = "";
      });
    });
    var pendingNote = document.getElementById("pending");
    if (pendingNote) { setInterval(function () { if (!busy) { location.reload(); } }, 3000); }
  }

  // --- a page waiting for its check reloads itself ---------------------------------------------------------
  var wait = document.querySelector("[data-reload]");
  if (wait) { setTimeout(function () { location.reload(); }, parseInt(wait.getAttribute("data-reload"), 10)); }

  // --- sortable tables ----------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.querySelectorAll("th[data-sort]");
    Array.prototype.forEach.call(heads, function (th) {
      th.addEventListener("click", function () {
        var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
        var asc = !th.classList.contains("asc");
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var key = function (r) {
          var c = r.cells[idx], v = c.getAttribute("data-value") || c.textContent.trim();
          return th.getAttribute("data-sort") === "num" ? (parseFloat(v) || 0) : v;
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          var d = typeof x === "number" ? x - y : String(x).localeCompare(String(y), "zh-CN");
          return asc ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  // --- live filter of a table by its first column -----------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), function (input) {
    var table = document.querySelector(input.getAttribute("data-filter"));
    if (!table) { return; }
    input.addEventListener("input", function () {
      var q = input.value.trim();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.hidden = q && r.cells[0].textContent.indexOf(q) < 0;
      });
    });
  });

  // --- a finding's cell link flashes the cell in the drawn table ---------------------------------------------
  var flash = function () {
    if (!location.hash) { return; }
    var el = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (el) {
      for (var p = el.parentNode; p; p = p.parentNode) { if (p.tagName === "DETAILS") { p.open = true; } }
      el.scrollIntoView({block: "center"});
      el.classList.remove("target"); void el.offsetWidth; el.classList.add("target"); }
  };
  window.addEventListener("hashchange", flash);
  flash();

  Array.prototype.forEach.call(document.querySelectorAll("button[data-busy]"), function (b) {
    b.form.addEventListener("submit", function () { b.disabled = true; b.textContent += " " + b.getAttribute("data-busy"); });
  });
})();
