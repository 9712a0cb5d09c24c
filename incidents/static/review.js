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
    // The tabs, Back / Next, and the gate's links to the step that fixes a missing piece.
    document.addEventListener("click", function (event) {
      var a = event.target.closest('a[href^="#"]');
      if (!a) return;
      var id = a.getAttribute("href").slice(1);
      if (!sections.some(function (s) { return s.id === id; })) return;
      event.preventDefault();
      history.replaceState(null, "", "#" + id);
      show(id);
      var nav = document.querySelector("nav.steps");
      if (nav && nav.getBoundingClientRect().top < 0) nav.scrollIntoView();
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
      // The phrase and the rule's name are two things: read them as two.
      var mark = document.createElement("mark");
      mark.className = "phrase";
      mark.textContent = "“" + flag.phrase + "”";
      var rule = document.createElement("span");
      rule.className = "rule muted";
      var name = flag.label || flag.rule.replace(/_/g, " ");
      var sure = flag.confidence != null ? ", model, " + Math.round(flag.confidence * 100) + "% sure" : "";
      rule.textContent = " · rule: " + name + sure + (flag.kept ? " · kept with a reason" : "");
      var question = document.createElement("p");
      question.className = "question";
      question.textContent = flag.question;
      item.append(mark, rule, question);
      list.appendChild(item);
    });
    none.textContent = flags.length ? "" : "No blame flags in this text.";
  }

  // A copy of the text with each flagged phrase marked where it stands.
  function renderMarked(holder, text, flags) {
    if (!holder) return;
    holder.textContent = "";
    var spans = flags.slice().sort(function (a, b) { return a.start - b.start; });
    // The server counts code points; JavaScript strings count UTF-16 units.
    var chars = Array.from(text);
    function part(from, to) { return chars.slice(from, to).join(""); }
    var at = 0;
    spans.forEach(function (flag) {
      if (flag.start < at) return; // overlapping: the first one marks it
      holder.appendChild(document.createTextNode(part(at, flag.start)));
      var mark = document.createElement("mark");
      mark.className = flag.kept ? "kept" : "open";
      mark.title = flag.label || flag.rule;
      mark.textContent = part(flag.start, flag.end);
      holder.appendChild(mark);
      at = flag.end;
    });
    holder.appendChild(document.createTextNode(part(at)));
    holder.closest("details").hidden = spans.length === 0;
  }

  function setUpPreview() {
    var textarea = document.getElementById("markdown");
    var preview = document.getElementById("preview");
    var list = document.getElementById("live-flags");
    var none = document.getElementById("live-flags-none");
    var marked = document.getElementById("live-marked");
    var token = document.querySelector('meta[name="csrf-token"]');
    if (!textarea || !list) return;
    var timer = null;
    var sent = 0;
    function refresh() {
      var mine = ++sent;
      var sentText = textarea.value;
      fetch(textarea.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.content : ""},
        body: JSON.stringify({markdown: sentText})
      }).then(function (response) {
        if (!response.ok) throw new Error("preview answered " + response.status);
        return response.json();
      }).then(function (data) {
        if (mine !== sent) return; // a newer keystroke's answer is on its way
        if (preview) preview.innerHTML = data.html; // sanitised by the server (nh3)
        renderFlags(list, none, data.flags);
        renderMarked(marked, sentText, data.flags);
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

  // Nothing typed is lost. The steps are separate forms, and saving one reloads the page:
  // every text typed into any of them is kept as a draft in this browser until the server
  // has it, put back after the reload, and leaving the page with unsaved text asks first.
  function setUpDrafts() {
    var holder = document.querySelector("[data-draft-key]");
    if (!holder) return;
    var storeKey = holder.dataset.draftKey;
    var fields = Array.prototype.slice.call(holder.querySelectorAll(
      "textarea, input[type=text], input[type=url], input[type=date]"))
      .filter(function (field) { return field.form && field.name; });
    var submitting = null;
    var stored = true;

    function keyOf(field) {
      var form = field.form;
      return (form.dataset.draft || form.getAttribute("action")) + "|" + field.name;
    }
    function read() {
      try { return JSON.parse(localStorage.getItem(storeKey) || "{}"); }
      catch (e) { stored = false; return {}; }
    }
    function write(draft) {
      try {
        if (Object.keys(draft).length) localStorage.setItem(storeKey, JSON.stringify(draft));
        else localStorage.removeItem(storeKey);
      } catch (e) { stored = false; }
    }
    function revisionOf(form) {
      var input = form.querySelector("input[name=revision]");
      return input ? input.defaultValue : null;
    }
    function remember(field) {
      var draft = read();
      var key = keyOf(field);
      if (field.value === field.defaultValue) delete draft[key];
      else draft[key] = {base: field.defaultValue, value: field.value,
                         revision: revisionOf(field.form)};
      write(draft);
    }

    // Put back what the last page held and the server does not have.
    var draft = read();
    var refused = document.querySelector(".flash-error, [data-testid=conflict]") !== null;
    var restored = [];
    fields.forEach(function (field) {
      var entry = draft[keyOf(field)];
      if (!entry) return;
      delete draft[keyOf(field)];
      // Sent with its form and the page shows no refusal: the server has it now.
      if (entry.sent && !refused) return;
      if (entry.value === field.defaultValue) return;
      field.value = entry.value;
      draft[keyOf(field)] = {base: field.defaultValue, value: entry.value,
                             revision: entry.revision};
      var revision = field.form.querySelector("input[name=revision]");
      // Saved since this draft began: save from the draft's revision, so the server shows
      // both texts side by side instead of overwriting either.
      if (revision && entry.revision !== null && entry.base !== field.defaultValue) {
        revision.value = entry.revision;
      }
      field.dispatchEvent(new Event("input", {bubbles: true}));
      restored.push(field);
    });
    // Entries for fields no longer on the page (a kept flag, a removed finding) are done.
    write(draft);
    var notice = document.getElementById("draft-restored");
    if (restored.length && notice) {
      notice.hidden = false;
      var discard = notice.querySelector("button");
      if (discard) discard.addEventListener("click", function () {
        restored.forEach(function (field) {
          field.value = field.defaultValue;
          field.dispatchEvent(new Event("input", {bubbles: true}));
        });
        write({});
        notice.hidden = true;
      });
    }

    fields.forEach(function (field) {
      field.addEventListener("input", function () { remember(field); });
    });
    document.addEventListener("submit", function (event) {
      submitting = event.target;
      var draft = read();
      fields.forEach(function (field) {
        var key = keyOf(field);
        if (field.form === submitting && draft[key]) draft[key].sent = true;
      });
      write(draft);
    });
    window.addEventListener("beforeunload", function (event) {
      var unsaved = fields.some(function (field) {
        if (field.value === field.defaultValue) return false;
        // A form of this page is being sent: its own fields go with it, the others wait in
        // the draft for the page that comes back.
        return !submitting || (field.form !== submitting && !stored);
      });
      if (!unsaved) return;
      event.preventDefault();
      event.returnValue = "";
    });
  }

  setUpSteps();
  setUpDrafts();
  setUpPreview();
  setUpKindNudge();
})();
