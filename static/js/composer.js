// Composer attachments and the template picker: shows the chosen file's name, and fills
// a template's preview as the agent types its values. Text only (textContent), no HTML.
(function () {
  "use strict";

  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("[data-composer-file]")) return;
    var form = input.closest("form");
    var label = form && form.querySelector("[data-composer-file-name]");
    if (!label) return;
    var f = input.files && input.files[0];
    label.textContent = f ? f.name : "";
    label.hidden = !f;
  });

  // After a send the form is reset by the inbox script; the file's name goes with it.
  document.addEventListener("reset", function (e) {
    var label = e.target.querySelector && e.target.querySelector("[data-composer-file-name]");
    if (label) {
      label.textContent = "";
      label.hidden = true;
    }
  }, true);

  function fill(source, values) {
    var order = {};
    var n = 0;
    return source.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, function (m, name) {
      if (!(name in order)) order[name] = n++;
      var v = values[order[name]];
      return v ? v : m;
    });
  }

  document.addEventListener("input", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("[data-template-param]")) return;
    var box = input.closest("[data-template-preview]");
    if (!box) return;
    ["header", "body"].forEach(function (part) {
      var values = [];
      box.querySelectorAll('[data-template-param="' + part + '"]').forEach(function (p) {
        values[Number(p.dataset.index)] = p.value.trim();
      });
      var out = box.querySelector('[data-template-text="' + part + '"]');
      if (out) out.textContent = fill(out.dataset.source || "", values);
    });
  });
})();
