// The review page: steps as tabs, live Markdown preview and blame flags while typing.
// No inline script (the CSP forbids it); the server sanitises the preview HTML.
(function () {
  "use strict";

  function setUpSteps() {
    var sections = Array.prototype.slice.call(document.querySelectorAll("[data-step]"));
    var links = Array.prototype.slice.call(document.querySelectorAll("[data-step-link]"));
    if (!sections.length) return;
    function show(id) {
      if (!sections.some(function (s) { return s.id === id; })) id = sections[0].id;
      sections.forEach(function (s) { s.hidden = s.id !== id; });
      links.forEach(function (a) {
        a.classList.toggle("current", a.dataset.stepLink === id);
        if (a.dataset.stepLink === id) a.setAttribute("aria-current", "step");
        else a.removeAttribute("aria-current");
      });
    }
    links.forEach(function (a) {
      a.addEventListener("click", function (event) {
        event.preventDefault();
        history.replaceState(null, "", "#" + a.dataset.stepLink);
        show(a.dataset.stepLink);
      });
    });
    window.addEventListener("hashchange", function () { show(location.hash.slice(1)); });
    // A re-rendered form (a refused or conflicting save) names the step to open.
    var holder = document.querySelector("[data-initial-step]");
    show(location.hash.slice(1) || (holder && holder.dataset.initialStep) || "");
  }

  function renderFlags(list, none, flags) {
    list.textContent = "";
    flags.forEach(function (flag) {
      var item = document.createElement("li");
      item.className = "flag " + (flag.kept ? "kept" : "open");
      var mark = document.createElement("mark");
      mark.textContent = flag.phrase;
      var rule = document.createElement("span");
      rule.className = "muted";
      var name = flag.label || flag.rule.replace(/_/g, " ");
      var sure = flag.confidence != null ? " · model, " + Math.round(flag.confidence * 100) + "% sure" : "";
      rule.textContent = " — " + name + sure + (flag.kept ? " · kept" : "");
      var question = document.createElement("p");
      question.className = "question";
      question.textContent = flag.question;
      item.append(mark, rule, question);
      list.appendChild(item);
    });
    none.textContent = flags.length ? "" : "No blame flags in this text.";
  }

  function setUpPreview() {
    var textarea = document.getElementById("markdown");
    var preview = document.getElementById("preview");
    var list = document.getElementById("live-flags");
    var none = document.getElementById("live-flags-none");
    var token = document.querySelector('meta[name="csrf-token"]');
    if (!textarea || !list) return;
    var timer = null;
    var sent = 0;
    function refresh() {
      var mine = ++sent;
      fetch(textarea.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.content : ""},
        body: JSON.stringify({markdown: textarea.value})
      }).then(function (response) {
        if (!response.ok) throw new Error("preview answered " + response.status);
        return response.json();
      }).then(function (data) {
        if (mine !== sent) return; // a newer keystroke's answer is on its way
        if (preview) preview.innerHTML = data.html; // sanitised by the server (nh3)
        renderFlags(list, none, data.flags);
      }).catch(function () {
        none.textContent = "Preview unavailable; your text is still here. Save to check it.";
      });
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    refresh();
  }

  function setUpKindNudge() {
    var kind = document.getElementById("item-kind");
    var nudge = document.getElementById("kind-nudge");
    if (!kind || !nudge) return;
    function update() { nudge.hidden = !(kind.value === "advice" || kind.value === "local_fix"); }
    kind.addEventListener("change", update);
    update();
  }

  setUpSteps();
  setUpPreview();
  setUpKindNudge();
})();
