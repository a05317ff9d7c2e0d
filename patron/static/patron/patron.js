/* Patron's few lines of page behaviour: the phone menu and the "/" search shortcut. */
(function () {
  "use strict";

  // The menu button shows and hides the sidebar on narrow screens.
  var button = document.getElementById("patron-menu-button");
  var sidebar = document.getElementById("patron-sidebar");
  function setMenu(open) {
    if (!button || !sidebar) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    sidebar.classList.toggle("patron-sidebar-open", open);
    document.body.classList.toggle("patron-menu-open", open);
    if (open) {
      var first = sidebar.querySelector("a[aria-current], a.nav-link");
      if (first) first.focus();
    }
  }
  if (button && sidebar) {
    button.addEventListener("click", function () {
      setMenu(button.getAttribute("aria-expanded") !== "true");
    });
    var close = document.getElementById("patron-menu-close");
    if (close) close.addEventListener("click", function () { setMenu(false); button.focus(); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setMenu(false);
        button.focus();
      }
    });
    document.addEventListener("click", function (event) {
      // A tap outside the open menu closes it.
      if (button.getAttribute("aria-expanded") === "true" &&
          !sidebar.contains(event.target) && !button.contains(event.target)) {
        setMenu(false);
      }
    });
  }

  // "/" focuses the header search, unless the focus is already in a text field.
  function typing(element) {
    if (!element) return false;
    if (element.isContentEditable) return true;
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag !== "INPUT") return false;
    var type = (element.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset", "file", "range", "color"].indexOf(type) === -1;
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(document.activeElement)) return;
    var search = document.getElementById("patron-search");
    if (!search) return;
    event.preventDefault();
    search.focus();
    search.select();
  });

  // Native <dialog>s: [data-dialog-open="id"] opens one, [data-dialog-close] closes it.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && !dialog.open) {
        dialog.showModal();
        var first = dialog.querySelector("select, input:not([type=hidden]), textarea");
        if (first) first.focus();
      }
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) open.close();
    }
  });

  // The status form: the chosen status's preset reasons only; a preset fills the
  // reason; the reason and date are marked required when the status says so.
  function statusForm(form) {
    var status = form.querySelector("[data-status-select]");
    if (!status) return;
    var option = status.options[status.selectedIndex];
    var label = option ? option.text : "";
    var presets = form.querySelector("[data-preset-reasons]");
    if (presets) {
      var any = false;
      Array.prototype.forEach.call(presets.querySelectorAll("optgroup"), function (group) {
        var mine = group.label === label;
        group.hidden = !mine;
        group.disabled = !mine;
        any = any || mine;
      });
      var chosen = presets.options[presets.selectedIndex];
      if (chosen && chosen.parentNode.tagName === "OPTGROUP" && chosen.parentNode.disabled) {
        presets.value = "";
      }
      presets.closest(".mb-3").hidden = !any;
    }
    [["textarea[name$='reason']", "data-require-reason"], ["input[name$='effective_date']", "data-require-date"]].forEach(function (pair) {
      var input = form.querySelector(pair[0]);
      if (!input) return;
      var label = form.querySelector("label[for='" + input.id + "']");
      var required = !!(option && option.hasAttribute(pair[1]));
      if (required) input.setAttribute("aria-required", "true"); else input.removeAttribute("aria-required");
      if (label) {
        var mark = label.querySelector(".patron-required");
        if (required && !mark) label.insertAdjacentHTML("beforeend", ' <span class="text-danger patron-required" title="required for this status">*</span>');
        if (!required && mark) mark.remove();
      }
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form");
    if (!form) return;
    if (event.target.matches("[data-status-select]")) statusForm(form);
    if (event.target.matches("[data-preset-reasons]")) {
      var text = event.target.options[event.target.selectedIndex];
      var reason = form.querySelector("textarea[name$='reason']");
      if (reason && text && text.value) reason.value = text.text;
    }
  });
  function initStatusForms(root) {
    Array.prototype.forEach.call(root.querySelectorAll("form"), function (form) {
      if (form.querySelector("[data-status-select]")) statusForm(form);
    });
  }
  initStatusForms(document);
  document.addEventListener("htmx:afterSwap", function (event) { initStatusForms(event.target.parentNode || document); });

  // Group chips (the user form): the checked boxes as removable chips plus an
  // "add group" select; the checkboxes stay the form's value, so nothing is lost.
  function chipControl(control) {
    var chips = control.querySelector("[data-chips]");
    var add = control.querySelector("[data-chip-add]");
    var boxes = control.querySelectorAll("input[type=checkbox]");
    function labelOf(box) {
      var label = control.querySelector("label[for='" + box.id + "']") || box.parentNode;
      return label.textContent.replace(/\s+/g, " ").trim();
    }
    function render() {
      chips.innerHTML = "";
      while (add.options.length > 1) add.remove(1);
      var none = true;
      Array.prototype.forEach.call(boxes, function (box) {
        var text = labelOf(box);
        if (box.checked) {
          none = false;
          var chip = document.createElement("span");
          chip.className = "patron-chip";
          chip.setAttribute("data-testid", "group-chip");
          chip.appendChild(document.createTextNode(text));
          var remove = document.createElement("button");
          remove.type = "button";
          remove.setAttribute("aria-label", "Remove " + text);
          remove.textContent = "×";
          remove.addEventListener("click", function () {
            box.checked = false;
            render();
            add.focus();
          });
          chip.appendChild(remove);
          chips.appendChild(chip);
        } else {
          add.add(new Option(text, box.value));
        }
      });
      if (none) {
        var empty = document.createElement("span");
        empty.className = "text-secondary small";
        empty.textContent = "No groups: sees every customer.";
        chips.appendChild(empty);
      }
    }
    add.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (box) {
        if (box.value === add.value) box.checked = true;
      });
      add.value = "";
      render();
    });
    render();
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-chip-control]"), chipControl);
})();

// Confirm before an action that is hard to take back (closing a ticket, undoing a
// bulk action): a form with data-confirm, or inside an element with data-confirm
// (data-confirm-action limits it to forms posting there), asks in a <dialog>
// first. Capture phase, so htmx and the browser see the submit only once confirmed.
(function () {
  var dialog = document.getElementById("patron-confirm");
  if (!dialog || typeof dialog.showModal !== "function") return;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var holder = form.closest("[data-confirm]");
    if (!holder || form.dataset.confirmed === "yes") return;
    var only = holder.dataset.confirmAction;
    if (only && form.getAttribute("action") !== only) return;
    event.preventDefault();
    event.stopPropagation();
    var submitter = event.submitter || null;
    document.getElementById("patron-confirm-title").textContent = holder.dataset.confirmTitle || "Are you sure?";
    document.getElementById("patron-confirm-text").textContent = holder.dataset.confirm;
    document.getElementById("patron-confirm-ok").textContent = holder.dataset.confirmButton || "OK";
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") return;
      form.dataset.confirmed = "yes";
      if (form.requestSubmit) form.requestSubmit(submitter && form.contains(submitter) ? submitter : undefined);
      else form.submit();
      delete form.dataset.confirmed;
    };
    dialog.showModal();
  }, true);
})();
