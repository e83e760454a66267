// kurz console: small progressive enhancements; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: data-copy names the element whose text is copied.
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        getSelection().selectAllChildren(source);
      }
    });
  }
  // Forms that ask before they destroy something.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
  // A select that submits its form on change (its button stays for no-script use).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
    for (const button of select.form.querySelectorAll(".js-hide")) button.hidden = true;
  }
  // The rules builder: "Add a rule" copies an empty row, with fresh ids and labels.
  const rules = document.querySelector("[data-rules]");
  const add = document.querySelector("[data-add-rule]");
  if (rules && add) {
    add.hidden = false;
    add.addEventListener("click", () => {
      const rows = rules.querySelectorAll("[data-rule]");
      const row = rows[rows.length - 1].cloneNode(true);
      const number = rows.length + 1;
      for (const input of row.querySelectorAll("input, select")) {
        input.value = "";
        input.id = input.id.replace(/\d+$/, String(number));
      }
      for (const label of row.querySelectorAll("label")) {
        label.htmlFor = label.htmlFor.replace(/\d+$/, String(number));
        label.textContent = label.textContent.replace(/^Rule \d+/, `Rule ${number}`);
      }
      rules.appendChild(row);
      row.querySelector("select").focus();
    });
  }
});
