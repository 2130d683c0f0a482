/* Octavo framework tabs.
 *
 * Cells and prose blocks that belong to one framework carry the class
 * "octavo-tab-<name>" (code cells: "tag_octavo-tab-<name>"). Consecutive
 * siblings of that kind form one tab set. The chosen framework is the same in
 * every tab set, on every page, and is remembered in localStorage.
 */
(function () {
  "use strict";
  var KEY = "octavo-tab";
  var tabs = window.OCTAVO_TABS || [];
  if (!tabs.length) return;

  function tabOf(el) {
    if (!el.classList) return null;
    for (var i = 0; i < tabs.length; i++) {
      var n = tabs[i].name;
      if (el.classList.contains("octavo-tab-" + n) ||
          el.classList.contains("tag_octavo-tab-" + n)) return n;
    }
    return null;
  }

  function chosen() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function show(name) {
    document.querySelectorAll(".octavo-tabset").forEach(function (set) {
      var names = set.getAttribute("data-tabs").split(" ");
      var pick = names.indexOf(name) >= 0 ? name : names[0];
      set.querySelectorAll(".octavo-tab-button").forEach(function (b) {
        var on = b.getAttribute("data-tab") === pick;
        b.classList.toggle("active", on);
        b.setAttribute("aria-selected", on ? "true" : "false");
      });
      set.querySelectorAll(".octavo-tab-pane").forEach(function (p) {
        p.hidden = p.getAttribute("data-tab") !== pick;
      });
    });
  }

  function choose(name) {
    try { localStorage.setItem(KEY, name); } catch (e) { /* private mode */ }
    show(name);
  }

  function build(group) {
    var names = [];
    var panes = {};
    group.forEach(function (el) {
      var n = tabOf(el);
      if (!panes[n]) { panes[n] = document.createElement("div"); names.push(n); }
      panes[n].appendChild(el);
    });
    names.sort(function (a, b) {
      return tabs.findIndex(function (t) { return t.name === a; }) -
             tabs.findIndex(function (t) { return t.name === b; });
    });
    var set = document.createElement("div");
    set.className = "octavo-tabset";
    set.setAttribute("data-tabs", names.join(" "));
    var bar = document.createElement("div");
    bar.className = "octavo-tab-bar";
    bar.setAttribute("role", "tablist");
    names.forEach(function (n) {
      var label = tabs.find(function (t) { return t.name === n; }).label;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "octavo-tab-button";
      b.setAttribute("role", "tab");
      b.setAttribute("data-tab", n);
      b.textContent = label;
      b.addEventListener("click", function () { choose(n); });
      bar.appendChild(b);
    });
    set.appendChild(bar);
    names.forEach(function (n) {
      panes[n].className = "octavo-tab-pane";
      panes[n].setAttribute("data-tab", n);
      panes[n].setAttribute("role", "tabpanel");
      set.appendChild(panes[n]);
    });
    return set;
  }

  function group() {
    var seen = new Set();
    document.querySelectorAll(".octavo-tab, [class*='tag_octavo-tab-']").forEach(function (el) {
      if (seen.has(el) || !tabOf(el)) return;
      var run = [el];
      seen.add(el);
      var next = el.nextElementSibling;
      while (next && tabOf(next)) { run.push(next); seen.add(next); next = next.nextElementSibling; }
      var anchor = document.createComment("octavo-tabs");
      el.parentNode.insertBefore(anchor, el);
      anchor.parentNode.replaceChild(build(run), anchor);
    });
    show(chosen() || tabs[0].name);
  }

  window.addEventListener("storage", function (e) { if (e.key === KEY && e.newValue) show(e.newValue); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", group);
  else group();
})();
