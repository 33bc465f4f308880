// Live alerts on the inbox: the page works without this; with it, alerts raised or changed
// after the page was drawn appear at the top of the table without a reload. Text only goes
// in through textContent, never as HTML.
(function () {
  "use strict";
  var table = document.getElementById("alerts");
  if (!table || !window.EventSource) { return; }
  var rows = document.getElementById("alert-rows");
  var announce = document.getElementById("live-announce");
  var csrf = table.getAttribute("data-csrf");

  function words(s) { s = String(s).replace(/[_.]/g, " "); return s.charAt(0).toUpperCase() + s.slice(1); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function cell(child) { var td = el("td", "govuk-table__cell"); if (child) { td.appendChild(child); } return td; }
  function button(alert, verb, label) {
    var f = el("form"); f.method = "post"; f.action = "/alerts/" + alert.alert_id + "/" + verb;
    var t = el("input"); t.type = "hidden"; t.name = "csrf_token"; t.value = csrf; f.appendChild(t);
    f.appendChild(el("button", "govuk-button govuk-button--secondary govuk-!-margin-bottom-1", label));
    return f;
  }
  var STATUS = { new: "New", reopened: "Reopened", acknowledged: "Acknowledged", on_agenda: "On Marac agenda", dismissed: "Dismissed" };

  function row(a) {
    var tr = el("tr", "govuk-table__row hub-new");
    tr.id = "alert-" + a.alert_id;
    tr.setAttribute("data-alert-id", a.alert_id);
    var what = el("div");
    what.appendChild(el("strong", "", words(a.rule)));
    what.appendChild(el("p", "govuk-body-s govuk-!-margin-bottom-1", a.reason));
    what.appendChild(el("p", "govuk-body-s govuk-!-margin-bottom-1", "What to do: " + a.recommended_action));
    var link = el("a", "govuk-link", "Open the family"); link.href = "/families/" + a.family_id;
    var p = el("p", "govuk-body-s govuk-!-margin-bottom-0"); p.appendChild(link); what.appendChild(p);
    tr.appendChild(cell(what));
    tr.appendChild(cell(el("span", "", a.people.map(function (x) { return x.name || "Name not held"; }).join(", "))));
    tr.appendChild(cell(el("span", "", a.due ? new Date(a.due).toUTCString() : "No deadline")));
    tr.appendChild(cell(el("strong", "govuk-tag", STATUS[a.status] || words(a.status))));
    var acts = el("td", "govuk-table__cell hub-actions");
    if (a.status === "new" || a.status === "reopened") { acts.appendChild(button(a, "acknowledge", "Acknowledge")); }
    if (a.status !== "on_agenda") { acts.appendChild(button(a, "agenda", "Add to agenda")); }
    if (a.status !== "dismissed") { var d = el("a", "govuk-link", "Dismiss"); d.href = "/alerts/" + a.alert_id + "/dismiss"; acts.appendChild(d); }
    tr.appendChild(acts);
    return tr;
  }

  var source = new EventSource(table.getAttribute("data-stream"));
  source.addEventListener("alert", function (ev) {
    var a = JSON.parse(ev.data);
    var old = document.getElementById("alert-" + a.alert_id);
    var fresh = row(a);
    if (old) { old.parentNode.replaceChild(fresh, old); } else { rows.insertBefore(fresh, rows.firstChild); }
    var none = document.getElementById("no-alerts"); if (none) { none.remove(); }
    announce.textContent = (old ? "Alert updated: " : "New alert: ") + words(a.rule);
  });
  source.addEventListener("error", function () { /* EventSource reconnects with Last-Event-ID */ });
})();
